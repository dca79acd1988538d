"""Every log line as one JSON object, for the server's own logs and uvicorn's.

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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = {"type": type(error).__name__, "where": raised_at(error)}
        return json.dumps(line, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for uvicorn's `log_config`, so every worker process applies it.

    uvicorn's own access log is off (`access_log=False` in cli.py): the app
    writes a richer line per request (graphql_api.web.request_log).
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "graphql_api.web.log_format.JsonFormatter"}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
