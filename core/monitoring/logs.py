"""Structured logs: one JSON line per event, to stderr and a rotating file under the data directory.

A line is `{"time", "level", "event", "fields"}`; `log_event("job_failed", job_id=3, error="...")`
writes one. Everything else the `core.*` modules log goes through the same handlers as an event
named "log" (its logger, message and traceback as fields), so one file holds the whole story.
Fields whose name says secret (password, token, embedding, ...) and binary values (bytes, arrays)
never reach a line: a sign-in is logged by its outcome, never by what was typed or seen.

Each process role (app, worker) has its own file, `<data dir>/logs/<role>.log`, because two
processes rotating one file would interleave their renames.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import numpy as np

from core.config import get_settings

ROOT_LOGGER = "core"  # every module logs as core.<package>.<module>
EVENTS = logging.getLogger("core.events")
_SECRET_NAMES = ("password", "secret", "token", "credential", "embedding", "vector")
_REDACTED = "[redacted]"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

_lock = threading.Lock()
_handlers: list[logging.Handler] = []
_before: tuple[int, bool] = (logging.NOTSET, True)
_file: Path | None = None


def _plain(value: Any) -> Any:
    """JSON for what json cannot write: binary and arrays are left out, the rest as text."""
    if isinstance(value, bytes | bytearray | memoryview | np.ndarray):
        return "[binary omitted]"
    return str(value)


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, event, fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, "fields", None) or {"logger": record.name, "message": record.getMessage()})
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "log"),
            "fields": fields,
        }
        return json.dumps(line, default=_plain, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written (as logging's last-resort handler does), so a
    stream swapped after start-up (a redirect, a test's capture) still gets the lines."""

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _safe(name: str, value: Any) -> Any:
    return _REDACTED if any(word in name.lower() for word in _SECRET_NAMES) else value


def log_event(event: str, level: str = "info", **fields: Any) -> None:
    """Log one event ("job_started", "signin", ...) with its fields; never raises."""
    try:
        safe = {name: _safe(name, value) for name, value in fields.items()}
        EVENTS.log(_LEVELS.get(level, logging.INFO), event, extra={"event": event, "fields": safe})
    except Exception:  # a log line must never break the work it describes
        logging.getLogger(__name__).debug("event %s not logged", event, exc_info=True)


def configure_logging(role: str = "app") -> Path:
    """Once per process: JSON lines from every `core.*` logger to stderr and `<data dir>/logs/<role>.log`."""
    global _before, _file
    with _lock:
        if _file is not None:
            return _file
        settings = get_settings()
        path = settings.data_dir / "logs" / f"{role}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = RotatingFileHandler(
            path, maxBytes=max(int(settings.log_max_mb * 2**20), 1), backupCount=settings.log_backups, encoding="utf-8"
        )
        logger = logging.getLogger(ROOT_LOGGER)
        _before = (logger.level, logger.propagate)
        for handler in (_Stderr(), rotating):
            handler.setFormatter(JsonLines())
            logger.addHandler(handler)
            _handlers.append(handler)
        logger.setLevel(_LEVELS[settings.log_level])
        logger.propagate = False  # one line per event, even where the root logger has handlers of its own
        _file = path
        return path


def log_file() -> Path | None:
    """The file this process writes its log lines to, once configured."""
    return _file


def reset_logging() -> None:
    """Take this module's handlers off again and close the file (tests run many data directories in one process)."""
    global _file
    with _lock:
        logger = logging.getLogger(ROOT_LOGGER)
        for handler in _handlers:
            logger.removeHandler(handler)
            handler.close()
        _handlers.clear()
        logger.setLevel(_before[0])
        logger.propagate = _before[1]
        _file = None
