"""What every page shares: the templates, the signed-in client, the page and the
message page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import StrictUndefined

from nxce.settings import Settings
from web.certificate_words import withdrawn_words
from web.services import sessions_service
from web.session import principal_of

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"
CATEGORIES = (("public", "公需课"), ("professional", "专业课"))
CATEGORY_LABELS = dict(CATEGORIES)


def hours(value: float) -> str:
    return f"{value:g}"


def size(value: int) -> str:
    """A file's size as people read it: 12 KB, 3.4 MB."""
    if value < 1024 * 1024:
        return f"{max(1, round(value / 1024))} KB"
    return f"{value / (1024 * 1024):.1f} MB"


TEMPLATES.env.undefined = StrictUndefined  # a misspelt name fails loudly, not blank
TEMPLATES.env.globals["hours"] = hours
TEMPLATES.env.globals["size"] = size
TEMPLATES.env.globals["category_labels"] = CATEGORY_LABELS
TEMPLATES.env.globals["withdrawn_words"] = withdrawn_words


def small_number(text: str, digits: int = 4) -> int | None:
    """`text` as a whole number of at most `digits` ASCII digits, else None ("²" is a
    digit to str.isdigit, not to int)."""
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def secure_cookies(request: Request, settings: Settings) -> bool:
    """Cookies marked Secure over HTTPS, and whenever the public address is https (behind
    a proxy that ends TLS the request itself looks like http)."""
    public = settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def cross_site(request: Request) -> bool:
    """A request another site started (a link or form elsewhere): browsers say so in
    Sec-Fetch-Site. Downloads that issue transcripts refuse it."""
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


def bad_format(value: str) -> str:
    return f"格式 format 只能是 pdf、xlsx、csv 或 json，收到 {value[:20]!r}。"


async def context(request: Request, **values: Any) -> dict[str, Any]:
    sessions = sessions_service(request)  # also for pages answered outside a route
    principal = await principal_of(sessions, request)
    session = sessions.current(request)
    return {"principal": principal, "csrf": session.csrf if session else "", **values}


def page(request: Request, name: str, values: dict[str, Any], status: int = 200) -> Response:
    response = TEMPLATES.TemplateResponse(request, name, values, status_code=status)
    response.headers["Cache-Control"] = "no-store" if values.get("principal") else "no-cache"
    return response


async def message(
    request: Request, status: int, heading: str, text: str, link: tuple[str, str] | None = None
) -> Response:
    values = await context(request, heading=heading, text=text, kind="error", link=link)
    return page(request, "message.html", values, status)
