"""The Beanie document of a learner's account: a password, or an activation code."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from nxce.core import db


class Account(Document):
    """One learner's way in by password. Created when a first activation code is issued
    for them; the code (kept only as a keyed digest) sets the password once."""

    learner_id: str
    password_hash: str | None = None  # argon2id (argon2-cffi), None until activated
    password_set_at: datetime | None = None
    activation_digest: str | None = None  # HMAC of the newest code; None once used
    activation_expires_at: datetime | None = None
    activation_issued_by: str | None = None
    created_at: datetime = Field(default_factory=db.now)
    updated_at: datetime = Field(default_factory=db.now)

    class Settings:
        name = "accounts"
        # every sign-in and activation: the account of a learner.
        indexes = [IndexModel([("learner_id", ASCENDING)], unique=True, name="learner_unique")]


DOCUMENTS = (Account,)
