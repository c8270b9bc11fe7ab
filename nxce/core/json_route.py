"""The route class every router uses: request bodies are read by the kernel's JSON decoder.

FastAPI reads a JSON body with `Request.json()`; `JsonRoute` hands each route a request
whose `json()` is `nxce.core.json_input.loads`, so every body is refused alike (numbers out
of range, nesting, repeated keys) before a model sees it. A refused value is a 422 naming
its field, as the model's own refusals are; a body that is no JSON at all is a 400.
Routers declare it with `APIRouter(route_class=JsonRoute)`; a test checks that every route
of the app does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from nxce.core import json_input
from nxce.core.errors import NxceError, UnsupportedMediaType, invalid


class JsonRequest(Request):
    """A request whose JSON body is read by the kernel's decoder."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json_input.loads(await self.body(), "body")
        return self._json


def _problem(refused: json_input.JsonRefused) -> NxceError:
    if refused.field is None:
        return refused
    return invalid(refused.field, refused.reason)


def _refuse_unread_body(error: RequestValidationError, request: Request) -> None:
    """A body FastAPI did not read as JSON (its Content-Type is another) reaches the model
    as bytes: a 415 saying to send JSON, never a 422 that would echo the whole body back
    (a password, an id number)."""
    if any(e.get("loc") == ("body",) and isinstance(e.get("input"), bytes) for e in error.errors()):
        content_type = request.headers.get("content-type")
        raise UnsupportedMediaType(
            f"send the body as JSON with Content-Type: application/json, got {content_type!r}"
        )


class JsonRoute(APIRoute):
    """An APIRoute whose request body is decoded by `json_input.loads`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            # One request object for the whole route: its body can be read once only.
            decoding = JsonRequest(request.scope, request.receive)
            try:
                return await handler(decoding)
            except HTTPException as error:
                # FastAPI answers a body its reader refused with a bare 400 ("There was an
                # error parsing the body"); the decoder's refusal says what and where.
                if isinstance(error.__cause__, json_input.JsonRefused):
                    raise _problem(error.__cause__) from None
                raise
            except RequestValidationError as error:
                _refuse_unread_body(error, decoding)
                raise await self.refine(error, decoding) from None

        return route

    async def refine(
        self, error: RequestValidationError, request: Request
    ) -> RequestValidationError:
        """A route class may say more of a refused body (its body has been read)."""
        return error
