"""Logging of `nxce serve`: text for a terminal (the default), or one JSON object a line
(NXCE_LOG_FORMAT=json, as docker-compose.yml sets it) for a log collector. Every line
names the request it belongs to (`request_id`, `-` outside a request); uvicorn's access
log goes through the same handler, its fields apart in JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from nxce.core.request_id import RequestIdFilter
from nxce.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
ACCESS_LOGGER = "uvicorn.access"
# uvicorn's access record: '%s - "%s %s HTTP/%s" %d' % (client, method, path, version, status)
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """One JSON object a line, UTF-8 as it is (中文 unescaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        args = record.args
        if (
            record.name == ACCESS_LOGGER
            and isinstance(args, tuple)
            and len(args) == len(ACCESS_FIELDS)
        ):
            line.update(zip(ACCESS_FIELDS, args, strict=True))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(settings: Settings) -> logging.Handler:
    """A handler to standard error in the configured format, naming the request id."""
    found = logging.StreamHandler(sys.stderr)
    found.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        found.setFormatter(JsonFormatter())
    else:
        found.setFormatter(logging.Formatter(TEXT_FORMAT))
    return found


def configure(settings: Settings) -> None:
    """The root logger writes every line (the service's, uvicorn's and its access log)
    through one handler; uvicorn is then run with `log_config=None`."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(settings))
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
