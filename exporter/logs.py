"""Logging: logfmt-style text or JSON lines on stderr, with passwords redacted from every message."""

from __future__ import annotations

import json
import logging
import sys
import time

from exporter.database.connection import redact

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict:
    out = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": redact(record.getMessage()),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            out[key] = redact(str(value)) if isinstance(value, str) else value
    if record.exc_info:
        out["error"] = redact(logging.Formatter().formatException(record.exc_info))
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record).items():
            text = str(value)
            if key == "error":
                continue
            quoted = not text or any(c in text for c in ' ="')
            parts.append(f"{key}={json.dumps(text, ensure_ascii=False) if quoted else text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + redact(logging.Formatter().formatException(record.exc_info))
        return line


def setup(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("sqlalchemy", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
