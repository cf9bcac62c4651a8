"""One JSON object per log line on stdout, so a log query (KQL, Loki, jq) can read fields instead of parsing text."""

import logging
import sys
from datetime import datetime, timezone
from typing import Any

import orjson

STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))
"""Attributes every LogRecord has; anything else was passed through `extra=` and becomes a field."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in STANDARD_ATTRIBUTES and k != "message"})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at the time of the call (so captured output in tests sees it too)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


LOGGERS = ("service", "uvicorn", "uvicorn.error")


def configure_logging(level: str) -> None:
    """Send the service's and uvicorn's loggers, and only those, through one JSON handler on stdout."""
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler] if name != "uvicorn.error" else []
        logger.setLevel(level.upper())
        logger.propagate = name == "uvicorn.error"
    logging.getLogger("uvicorn.access").disabled = True
