"""Bodies of the account routes, in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from credits.schemas import Text
from nxce.core.devices import MAX_NAME_CHARS

# Generous bounds: a password's own rules (10-128 characters) are checked with a message
# naming the rule; these only keep absurd bodies out.
Name = Annotated[str, Field(min_length=1, max_length=64)]
Secret = Annotated[str, Field(min_length=1, max_length=1024)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Activation(_Strict):
    account: Name = Field(description="learner id, national id number or phone number")
    # Not bounded either (a 422 would echo it): a code of any other length is just wrong.
    code: str = Field(
        description="the activation code, as printed (XXXX-XXXX-XXXX; case and hyphens ignored)"
    )
    password: Secret


class AppSignIn(_Strict):
    account: Name = Field(description="learner id, national id number or phone number")
    password: Secret
    # One line of printable text, as every name the service shows (a NUL or a bidi override
    # would garble the device list on the pages); blank is refused.
    device: Annotated[Text, Field(max_length=MAX_NAME_CHARS)] = Field(
        description="a name of the device shown in the learner's device list (型号, 用户起的名字)"
    )


class RefreshRequest(_Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class PasswordChange(_Strict):
    # No length bound here: the password rules check `new` with a message naming the rule,
    # and the body limit bounds both. A 422 never echoes them (SECRET_FIELDS).
    old: str
    new: str


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme, no secret)
    expires_in: int = Field(description="seconds the access token is valid for")
    refresh_token: str
    learner_id: str
    device_id: str


class DeviceRead(BaseModel):
    device_id: str
    name: str
    created_at: datetime
    last_used_at: datetime = Field(description="the last sign-in or refresh")
    current: bool = Field(description="the device of the access token of this request")


class ActivationCodeRead(BaseModel):
    code: str = Field(description="shown once: only a keyed digest is stored")
    expires_at: datetime
