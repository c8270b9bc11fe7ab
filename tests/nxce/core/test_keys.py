"""Keys derived from the secret key are the ones every earlier release derived: values
made by the code before the kernel existed (id numbers encrypted and digested, a
transcript code, a session cookie) still decrypt, match and verify."""

from __future__ import annotations

from credits.id_numbers import IdNumberVault
from nxce.core import keys
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
