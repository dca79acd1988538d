"""Every log line with its request's id: JSON objects in production, readable lines in development.

`RequestIdFilter` sits on the handler, so it runs in the code that logs: a
store's fallback warning or a breaker's transition, logged inside a loader's
batch task, still sees the request's context (asyncio copies it into every task
the request starts) and is stamped with that request's id. Lines logged
outside a request (start-up, the outbox relay) carry none.

A record's `extra={"fields": {...}}` become top-level keys (the access line
uses this). An exception is written as its type and the place it was raised,
never its message or stack trace: driver messages carry SQL, host names and
sometimes customer data.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from graphql_api.errors import raised_at
from graphql_api.settings import LogFormat
from graphql_api.web.request_log import current_request

# The attribute the filter sets on each record: the request's id, or None.
REQUEST_ID = "request_id"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, REQUEST_ID, None) is None:
            current = current_request()
            setattr(record, REQUEST_ID, None if current is None else current.request_id)
        return True


def _line(record: logging.LogRecord) -> dict[str, Any]:
    """What every format writes: the message, the request's id, the fields, the error."""
    line: dict[str, Any] = {"message": record.getMessage()}
    request_id = getattr(record, REQUEST_ID, None)
    if request_id is not None:
        line[REQUEST_ID] = request_id
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        line.update(fields)
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        line["error"] = {"type": type(error).__name__, "where": raised_at(error)}
    return line


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (production)."""

    def format(self, record: logging.LogRecord) -> str:
        head = {"time": _time(record), "level": record.levelname, "logger": record.name}
        return json.dumps({**head, **_line(record)}, default=str)


class TextFormatter(logging.Formatter):
    """One readable line: time, level, logger, [request id], message, then key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = _line(record)
        message = line.pop("message")
        request_id = line.pop(REQUEST_ID, None)
        parts = [_time(record)[11:23], f"{record.levelname:<7}", record.name]
        if request_id is not None:
            parts.append(f"[{request_id}]")
        parts.append(message)
        parts += (f"{key}={json.dumps(value, default=str)}" for key, value in line.items())
        return " ".join(parts)


_FORMATTERS = {LogFormat.JSON: JsonFormatter, LogFormat.TEXT: TextFormatter}


def formatter_for(log_format: LogFormat) -> logging.Formatter:
    return _FORMATTERS[log_format]()


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """A dictConfig for uvicorn's `log_config`, so every worker process applies it.

    uvicorn's own access log is off (`access_log=False` in cli.py): the app
    writes a richer line per request (graphql_api.web.request_log).
    """
    formatter = _FORMATTERS[log_format]
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "app",
        "filters": ["request_id"],
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"app": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
