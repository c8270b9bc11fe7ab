"""Keys derived from the secret key are the ones every earlier release derived: values
made by the code before the kernel existed (id numbers encrypted and digested, a
transcript code, a session cookie) still decrypt, match and verify."""

from __future__ import annotations

import time

import jwt
import pytest

from accounts import codes
from credits.id_numbers import IdNumberVault
from credits.phones import PhoneVault
from nxce.core import keys
from nxce.core.app_tokens import AppTokens
from nxce.core.errors import ServiceUnavailable, Unauthorized
from transcripts.codes import Signer
from web.session import Session, Sessions

SECRET = b"keys made before the kernel, kept to prove they still derive"
ID_NUMBER = "640104198001010014"
# Made with the code of the release before `nxce.core.keys`, under SECRET.
TOKEN_BEFORE = (
    "gAAAAABrFfdJZCBPzjwF9sapCr27Rh7nMQxiXbPhDU39N2H_NkefeP7UiUjouu5UuhOVHefiLUHY_PqQIVp_"
    "QIWD8ebhVXsQbvldJEY-QBxqVgjyF_FefwU="
)
DIGEST_BEFORE = "6375868ebaf1049ea71a54895a4c8eb87189daaf52c587f638919ebd40ae802a"
CODE_BEFORE = "JKTLG5YGOQO7OXLT5NT2ENV2"
COOKIE_BEFORE = (
    "eyJrIjogImFkbWluIiwgImUiOiA0MTAyNDQ0ODAwLCAiYyI6ICJjc3JmLXRva2VuIiwgImkiOiAic2lkLTEiLCAic"
    "yI6ICJzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3NzcyJ9.pYyErEUWrTaIYS61sVGsbGULsYhGQCxQ4Lomojj0RnI"
)


def test_id_numbers_stored_before_still_decrypt_and_match() -> None:
    vault = IdNumberVault(keys.Keyring.of(SECRET))
    assert vault.decrypt(TOKEN_BEFORE) == ID_NUMBER
    assert vault.digest(ID_NUMBER) == DIGEST_BEFORE


def test_transcript_codes_issued_before_still_verify() -> None:
    signer = Signer(keys.Keyring.of(SECRET))
    assert signer.genuine(CODE_BEFORE, {"learner": "张伟", "hours": 90.0}, "ab" * 32)
    assert not signer.genuine(CODE_BEFORE, {"learner": "张伟", "hours": 91.0}, "ab" * 32)


def test_session_cookies_signed_before_still_open() -> None:
    session = Sessions(keys.Keyring.of(SECRET)).decode(COOKIE_BEFORE)
    assert session == Session("admin", 4102444800, "csrf-token", "sid-1", "s" * 32)


def test_each_purpose_has_its_own_key() -> None:
    derived = {keys.derive(SECRET, purpose) for purpose in keys.Purpose}
    assert len(derived) == len(keys.Purpose)
    assert all(len(key) == 32 for key in derived)
    assert keys.derive(b"another secret", keys.Purpose.web_sessions) != keys.derive(
        SECRET, keys.Purpose.web_sessions
    )


# --- the keyring ----------------------------------------------------------------------

OLD, NEW = b"old key of the ring", b"new key of the ring"


def test_a_value_stored_under_the_old_key_reads_and_is_found_after_a_rotation() -> None:
    before = IdNumberVault(keys.Keyring.of(OLD))
    stored = before.encrypt(ID_NUMBER)
    assert stored.startswith(f"{keys.key_id(OLD)}:")
    after = IdNumberVault(keys.Keyring.of(NEW, OLD))
    assert after.decrypt(stored) == ID_NUMBER
    assert after.encrypt(ID_NUMBER).startswith(f"{keys.key_id(NEW)}:")
    assert after.digest(ID_NUMBER) != before.digest(ID_NUMBER)  # writes: the new key
    assert after.matching(ID_NUMBER) == {"$in": [after.digest(ID_NUMBER), before.digest(ID_NUMBER)]}
    assert after.previous_digests(ID_NUMBER) == [before.digest(ID_NUMBER)]


def test_a_value_stored_before_key_ids_reads_under_any_key_of_the_ring() -> None:
    assert IdNumberVault(keys.Keyring.of(NEW, SECRET)).decrypt(TOKEN_BEFORE) == ID_NUMBER
    with pytest.raises(ServiceUnavailable, match="decrypts under no key of the ring"):
        IdNumberVault(keys.Keyring.of(NEW)).decrypt(TOKEN_BEFORE)


def test_a_value_under_a_key_the_ring_lacks_is_a_503_naming_its_key_id() -> None:
    stored = PhoneVault(keys.Keyring.of(OLD)).encrypt("13895001234")
    with pytest.raises(keys.KeyNotInRing) as lacking:
        PhoneVault(keys.Keyring.of(NEW)).decrypt(stored)
    assert lacking.value.status == 503 and lacking.value.key_id == keys.key_id(OLD)
    assert keys.key_id(OLD) in lacking.value.detail and "13895001234" not in lacking.value.detail


def test_a_ring_refuses_no_key_and_a_key_listed_twice() -> None:
    with pytest.raises(ValueError, match="at least one"):
        keys.Keyring(())
    with pytest.raises(ValueError, match=f"holds secret key {keys.key_id(OLD)} twice"):
        keys.Keyring.of(NEW, OLD, OLD)


def test_codes_sessions_and_tokens_made_under_the_old_key_verify_under_the_ring() -> None:
    old, rotated, new_only = keys.Keyring.of(OLD), keys.Keyring.of(NEW, OLD), keys.Keyring.of(NEW)
    summary = {"learner": "张伟", "hours": 90.0}
    code = Signer(old).code(summary, "ab" * 32)
    assert Signer(rotated).genuine(code, summary, "ab" * 32)
    assert not Signer(new_only).genuine(code, summary, "ab" * 32)
    assert Signer(rotated).code(summary, "ab" * 32) == Signer(new_only).code(summary, "ab" * 32)

    session = Session("zw-web", int(time.time()) + 60, "csrf", "sid", "s" * 32)
    cookie = Sessions(old).encode(session)
    assert cookie.split(".")[1] == keys.key_id(OLD)
    assert Sessions(rotated).decode(cookie) == session
    assert Sessions(new_only).decode(cookie) is None
    assert Sessions(rotated).decode(COOKIE_BEFORE.replace("4102444800", "x")) is None

    access, _ = AppTokens(old).issue_access(learner_id="zhangwei", device_id="d1")
    assert jwt.get_unverified_header(access)["kid"] == keys.key_id(OLD)
    assert AppTokens(rotated).verify_access(access) == ("zhangwei", "d1")
    with pytest.raises(Unauthorized):
        AppTokens(new_only).verify_access(access)
    refresh = AppTokens.new_refresh()
    assert AppTokens(old).refresh_digest(refresh) in AppTokens(rotated).refresh_digests(refresh)

    activation = keys.Keyring.of(OLD).derived(keys.Purpose.activation_codes).current
    stored = codes.digest(activation, "abcd-efgh-jkmn")
    assert codes.matches(rotated.derived(keys.Purpose.activation_codes).all, "ABCDEFGHJKMN", stored)
    assert not codes.matches(
        new_only.derived(keys.Purpose.activation_codes).all, "ABCDEFGHJKMN", stored
    )


def test_an_access_token_naming_a_key_the_ring_lacks_is_refused() -> None:
    claims = {"sub": "zhangwei", "dev": "d1", "iat": int(time.time()), "typ": "access"}
    claims["exp"] = claims["iat"] + 60
    key = keys.Keyring.of(NEW).derived(keys.Purpose.app_tokens).current
    forged = jwt.encode(claims, key, algorithm="HS256", headers={"kid": "00000000"})
    with pytest.raises(Unauthorized):
        AppTokens(keys.Keyring.of(NEW)).verify_access(forged)
