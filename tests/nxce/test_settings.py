"""Settings are checked when they are read, with messages that name them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nxce.settings import Settings


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"bootstrap_admin": "ab:password123"}, "user:password"),
        ({"bootstrap_admin": "admin"}, "user:password"),
        ({"bootstrap_admin": "admin:short"}, "at least 8 characters"),
        ({"log_level": "verbose"}, "got 'verbose'"),
        ({"platform_home_page": "nxce.example"}, "absolute http(s) IRI"),
        ({"max_body_bytes": 10}, "max_body_bytes"),
        ({"allowed_hosts": "*"}, "got '*'"),
        ({"allowed_hosts": "nxce.example/verify"}, "got 'nxce.example/verify'"),
        ({"allowed_hosts": "https://nxce.example"}, "got 'https://nxce.example'"),
        ({"allowed_hosts": " , "}, "at least one host"),
    ],
)
def test_bad_settings_are_refused(values: dict[str, object], text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    assert text in str(caught.value)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXCE_DATABASE", "nxce_staging")
    monkeypatch.setenv("NXCE_LOG_LEVEL", "WARNING")
    settings = Settings()
    assert (settings.database, settings.log_level) == ("nxce_staging", "warning")
