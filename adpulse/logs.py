"""Logging for every role: text for people, JSON (``ADPULSE_LOG_FORMAT=json``) for log pipelines.

The request id of the request being handled lives in a context variable (:data:`REQUEST_ID`, set by
``app.request_id``); a filter on the handler copies it into every record, so each log line written
while a request is served carries it, whichever module logs. JSON lines have ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id`` within a request, ``exc_info`` for a traceback,
and any ``extra`` fields. :func:`config` is a ``logging.config.dictConfig`` dictionary, also handed
to granian so its own lines and its worker processes use the same format.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("adpulse_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = REQUEST_ID.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})  # "-" outside a request


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.orjson import OrjsonFormatter

    return OrjsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # UTC, ISO 8601
    )


def config(log_format: Literal["text", "json"], level: str = "INFO") -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {"()": "adpulse.logs.json_formatter"} if log_format == "json" else {"()": "adpulse.logs.text_formatter"}
    )
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "adpulse"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "adpulse.logs.RequestIdFilter"}},
        "formatters": {"adpulse": formatter},
        "handlers": {"console": {**handler, "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # granian's own loggers (names from granian.log): same handler, no duplicates via the root.
            "_granian": {"handlers": ["console"], "level": level, "propagate": False},
            "granian.access": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


def configure(log_format: Literal["text", "json"], level: str = "INFO") -> None:
    logging.config.dictConfig(config(log_format, level))
