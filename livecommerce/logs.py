"""Logging: one line per event, text or JSON."""

from __future__ import annotations

import json
import logging
import sys
import time

# Libraries that log every ICE check and DTLS step at INFO: one line per event is ours.
CHATTY_LIBRARIES = ("aioice", "aiortc")
# What every LogRecord carries; anything else on a record came from ``extra=``.
RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__
) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message (and exc when present), then
    each ``extra=`` field of the call under its own name. An extra field never replaces
    one of those five; a value JSON cannot hold is written as its ``str()``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        for name, value in record.__dict__.items():
            if name not in RECORD_ATTRIBUTES and name not in entry:
                entry[name] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
