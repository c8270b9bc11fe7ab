"""The account services' refusals of an activation or a new password, in the page's
words: matched on the problem's status and the field it names (not on its English text);
which password rule was broken is read off the password against the same limits
(`accounts.passwords`), which the service has just applied."""

from __future__ import annotations

from accounts import passwords
from nxce.core.errors import NxceError

ACTIVATION_FAILED = "激活码不正确、已使用或已过期。请核对后重试，或请管理员重新发放激活码。"
OLD_PASSWORD_WRONG = "当前密码不正确。"  # noqa: S105 (words, no secret)
RULES = (
    f"{passwords.MIN_CHARS}至{passwords.MAX_CHARS}个字符，不能全是同一个字符，"
    "不能是或包含学员编号、身份证号或手机号。"
)


def _field(error: NxceError) -> str | None:
    """The field a 422 names (`nxce.core.errors.invalid`), None for other refusals."""
    errors = error.extra.get("errors")
    if error.status != 422 or not isinstance(errors, list) or not errors:
        return None
    first = errors[0]
    return str(first.get("field")) if isinstance(first, dict) else None


def rule_broken(password: str) -> str:
    """Which of the password rules `password` breaks, in Chinese."""
    if len(password) < passwords.MIN_CHARS:
        return f"新密码至少需要{passwords.MIN_CHARS}个字符，现在只有{len(password)}个。"
    if len(password) > passwords.MAX_CHARS:
        return f"新密码最多{passwords.MAX_CHARS}个字符，现在有{len(password)}个。"
    if len(set(password)) == 1:
        return "新密码不能全是同一个字符。"
    return "新密码不能是或包含您的学员编号、身份证号或手机号。"


def activation_refusal(error: NxceError, password: str) -> str:
    """Why `accounts.service.activate` refused."""
    if error.status == 400:
        return ACTIVATION_FAILED
    if _field(error) == "password":
        return rule_broken(password)
    return f"无法激活（{error.status}）：{error.detail}"


def change_refusal(error: NxceError, new: str) -> str:
    """Why `accounts.service.change_password` refused."""
    field = _field(error)
    if field == "old":
        return OLD_PASSWORD_WRONG
    if field == "new":
        return rule_broken(new)
    return f"无法修改密码（{error.status}）：{error.detail}"
