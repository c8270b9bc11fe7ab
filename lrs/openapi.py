"""OpenAPI descriptions of the xAPI routes, which read their requests by hand.

The routes under /xapi take no FastAPI parameter models (xAPI answers 400, never 422, and
has its own parameter rules), so FastAPI cannot describe them: each route passes one of
these as `openapi_extra`. They describe what the routes do; they change nothing in how a
request is read. Every status listed here is one the route answers (tests/lrs/
test_openapi.py keeps the table), and each error is problem+json.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from lrs.versions import HEADER, SUPPORTED
from nxce.core.problems import PROBLEM_MEDIA_TYPE

JSON = "application/json"
MULTIPART = "multipart/mixed"

# What each error status means on an xAPI resource (Communication 3.2 and 2.x).
_ERRORS: dict[int, str] = {
    400: "Bad request: a parameter, header or body breaks the xAPI rules (never 422)",
    401: "No credentials, or wrong ones (HTTP Basic), or an access token expired, invalid or "
    "of a device signed out (Bearer)",
    403: "The client lacks the scope, or acts for another learner",
    404: "No such statement or document",
    409: "Conflict: another statement has this id, or the document exists and the request "
    "sent neither If-Match nor If-None-Match",
    412: "Precondition failed: If-Match or If-None-Match does not hold",
    413: "Request body too large",
    429: "Too many failed authentications from this address; see Retry-After",
}

_PROBLEM: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}

_IRI = {"type": "string", "format": "iri", "minLength": 1}
_UUID = {"type": "string", "format": "uuid"}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_OBJECT = {"type": "object"}

# Data 2.4.2: an Agent (or identified Group) by one inverse functional identifier.
AGENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "objectType": {"type": "string", "enum": ["Agent", "Group"]},
        "name": {"type": "string"},
        "mbox": {"type": "string", "pattern": "^mailto:[^@\\s]+@[^@\\s]+$"},
        "mbox_sha1sum": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
        "openid": {"type": "string", "format": "uri"},
        "account": {
            "type": "object",
            "required": ["homePage", "name"],
            "properties": {
                "homePage": {"type": "string", "format": "uri"},
                "name": {"type": "string"},
            },
        },
    },
}

# Data 2.4: the properties a statement the LRS returns always has; the rest are objects
# and strings the xAPI validator checks on the way in.
STATEMENT: dict[str, Any] = {
    "type": "object",
    "required": ["actor", "verb", "object"],
    "properties": {
        "id": _UUID,
        "actor": AGENT,
        "verb": {"type": "object", "required": ["id"], "properties": {"id": _IRI}},
        "object": _OBJECT,
        "result": _OBJECT,
        "context": _OBJECT,
        "timestamp": _TIMESTAMP,
        "stored": _TIMESTAMP,
        "authority": _OBJECT,
        "version": {"type": "string"},
        "attachments": {"type": "array", "items": _OBJECT},
    },
}

STATEMENT_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["statements", "more"],
    "properties": {
        "statements": {"type": "array", "items": STATEMENT},
        "more": {"type": "string", "description": "the next page's URL, or empty"},
    },
}

IDS: dict[str, Any] = {"type": "array", "items": _UUID}

# Communication 1.5.2: statements first (application/json), then one part per attachment.
_MULTIPART_BODY = {"type": "string", "format": "binary"}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_VERSION_HEADER = {HEADER: _header("the xAPI version this answer follows")}
_CONSISTENT = {
    "X-Experience-API-Consistent-Through": _header(
        "every statement stored before this moment is in the answer's query"
    )
}


def _errors(*statuses: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        str(status): {
            "description": _ERRORS.get(status, HTTPStatus(status).phrase),
            "headers": {**_VERSION_HEADER, **(headers or {})},
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM}},
        }
        for status in statuses
    }


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _json_query(name: str, schema: dict[str, Any], description: str, required: bool) -> Any:
    """A parameter whose value is JSON text (an Agent), as OpenAPI 3 `content` says."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "content": {JSON: {"schema": schema}},
        "description": description,
    }


VERSION: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": list(SUPPORTED)},
    "description": "the xAPI version the client speaks (Communication 3.3)",
}


def _operation(
    parameters: list[dict[str, Any]],
    responses: dict[str, Any],
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "parameters": [VERSION, *parameters],
        "responses": responses,
        # the schemes nxce.core.auth declares: clients, and apps signed in as a learner
        "security": [{"HTTPBasic": []}, {"HTTPBearer": []}],
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def _ok(
    status: int,
    description: str,
    content: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> Any:
    answer: dict[str, Any] = {
        "description": description,
        "headers": {**_VERSION_HEADER, **(headers or {})},
    }
    if content is not None:
        answer["content"] = content
    return {str(status): answer}


# -- About and Statements -----------------------------------------------------------------

ABOUT: dict[str, Any] = {
    "responses": {
        **_ok(
            200,
            "the versions this LRS speaks and its extensions",
            {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["version"],
                        "properties": {
                            "version": {"type": "array", "items": {"type": "string"}},
                            "extensions": _OBJECT,
                        },
                    }
                }
            },
        ),
        **_errors(400),
    }
}

_STATEMENT_ID = _query("statementId", _UUID, "the statement's id", required=True)

GET_STATEMENTS: dict[str, Any] = _operation(
    [
        _query("statementId", _UUID, "one statement by id (goes with format, attachments)"),
        _query("voidedStatementId", _UUID, "one voided statement by id"),
        _json_query("agent", AGENT, "statements whose actor or object is this Agent", False),
        _query("verb", _IRI, "statements with this verb"),
        _query("activity", _IRI, "statements whose object is this Activity"),
        _query("registration", _UUID, "statements of this registration"),
        _query("related_activities", {"type": "boolean"}, "activity matches context too"),
        _query("related_agents", {"type": "boolean"}, "agent matches authority, context too"),
        _query("since", _TIMESTAMP, "stored after this moment"),
        _query("until", _TIMESTAMP, "stored at or before this moment"),
        _query("limit", {"type": "integer", "minimum": 0}, "at most this many (0: the most)"),
        _query(
            "format", {"type": "string", "enum": ["exact", "ids", "canonical"]}, "how to render"
        ),
        _query("attachments", {"type": "boolean"}, "multipart/mixed with attachment data"),
        _query("ascending", {"type": "boolean"}, "oldest first"),
        _query("more", {"type": "string"}, "the cursor of a previous answer's `more`; alone"),
        {
            "name": "Accept-Language",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "the languages of language maps under format=canonical",
        },
    ],
    {
        **_ok(
            200,
            "one statement (statementId, voidedStatementId) or a StatementResult; with "
            "attachments=true, multipart/mixed whose first part is that JSON",
            {
                JSON: {"schema": {"oneOf": [STATEMENT_RESULT, STATEMENT]}},
                MULTIPART: {"schema": _MULTIPART_BODY},
            },
            _CONSISTENT,
        ),
        **_errors(400, 401, 403, 404, 429, headers=_CONSISTENT),
    },
)

_STATEMENTS_BODY = {
    JSON: {"schema": {"oneOf": [STATEMENT, {"type": "array", "items": STATEMENT}]}},
    MULTIPART: {"schema": _MULTIPART_BODY},
}

PUT_STATEMENT: dict[str, Any] = _operation(
    [_STATEMENT_ID],
    {
        **_ok(204, "stored (or the same statement was stored already)", None, _CONSISTENT),
        **_errors(400, 401, 403, 409, 413, 429, headers=_CONSISTENT),
    },
    {JSON: {"schema": STATEMENT}, MULTIPART: {"schema": _MULTIPART_BODY}},
)

POST_STATEMENTS: dict[str, Any] = _operation(
    [],
    {
        **_ok(200, "the ids of the statements, in order", {JSON: {"schema": IDS}}, _CONSISTENT),
        **_errors(400, 401, 403, 409, 413, 429, headers=_CONSISTENT),
    },
    _STATEMENTS_BODY,
)

# -- Documents (State, Activity Profile, Agent Profile) -------------------------------------

_DOCUMENT_IDS = {"type": "array", "items": {"type": "string"}}
_ANY_DOCUMENT: dict[str, Any] = {"*/*": {"schema": {}}}


def _context(activity: bool, agent: bool, registration: bool) -> list[dict[str, Any]]:
    parameters = []
    if activity:
        parameters.append(_query("activityId", _IRI, "the Activity", required=True))
    if agent:
        parameters.append(_json_query("agent", AGENT, "the Agent", required=True))
    if registration:
        parameters.append(_query("registration", _UUID, "the registration"))
    return parameters


def _conditions() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": description,
        }
        for name, description in (
            ("If-Match", "the ETag of the document to replace, or *"),
            ("If-None-Match", "* to write only when no document exists"),
        )
    ]


def documents(
    *, id_name: str, activity: bool, agent: bool, registration: bool
) -> dict[str, dict[str, Any]]:
    """The four operations of one document resource, by HTTP method. Only State has
    registrations, and only State deletes every document of its context at once."""
    context = _context(activity, agent, registration)
    one = _query(id_name, {"type": "string", "minLength": 1}, "the document's id")
    required_one = {**one, "required": True}
    since = _query("since", _TIMESTAMP, "list ids of documents stored after this moment")
    read = {
        **_ok(
            200,
            f"the document (with {id_name}; its own content type, ETag and Last-Modified), "
            f"or the JSON array of the ids of the documents (without {id_name})",
            {**_ANY_DOCUMENT, JSON: {"schema": {}}},
        ),
        **_errors(400, 401, 403, 404, 429),
    }
    write_errors = (400, 401, 403, 409, 412, 413, 429)
    written = _ok(204, "stored")
    return {
        "GET": _operation([*context, one, since], read),
        "PUT": _operation(
            [*context, required_one, *_conditions()],
            {**written, **_errors(*write_errors)},
            _ANY_DOCUMENT,
        ),
        "POST": _operation(
            [*context, required_one, *_conditions()],
            {**written, **_errors(400, 401, 403, 412, 413, 429)},
            _ANY_DOCUMENT,
        ),
        "DELETE": _operation(
            [*context, one if registration else required_one, *_conditions()],  # State: all
            {**_ok(204, "deleted"), **_errors(400, 401, 403, 412, 413, 429)},
        ),
    }


# -- Activities and Agents -----------------------------------------------------------------

ACTIVITY: dict[str, Any] = _operation(
    _context(activity=True, agent=False, registration=False),
    {
        **_ok(
            200,
            "the Activity object the LRS holds",
            {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["objectType", "id"],
                        "properties": {
                            "objectType": {"type": "string", "enum": ["Activity"]},
                            "id": {"type": "string"},
                            "definition": _OBJECT,
                        },
                    }
                }
            },
        ),
        **_errors(400, 401, 403, 429),
    },
)

PERSON: dict[str, Any] = _operation(
    _context(activity=False, agent=True, registration=False),
    {
        **_ok(
            200,
            "the Person object: what the LRS knows of the Agent",
            {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["objectType"],
                        "properties": {
                            "objectType": {"type": "string", "enum": ["Person"]},
                            "name": {"type": "array", "items": {"type": "string"}},
                            "mbox": {"type": "array", "items": {"type": "string"}},
                            "mbox_sha1sum": {"type": "array", "items": {"type": "string"}},
                            "openid": {"type": "array", "items": {"type": "string"}},
                            "account": {"type": "array", "items": _OBJECT},
                        },
                    }
                }
            },
        ),
        **_errors(400, 401, 403, 429),
    },
)
