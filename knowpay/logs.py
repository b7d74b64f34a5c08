"""Log lines that keep their context: JSON in production, readable text in the demo.

Every call site already passes its context as `extra=` (order number, notification id, channel...);
both formatters keep all of it. A filter adds the request id of the request or task being served,
so the lines of one checkout, and of the tasks it started, can be found together.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from knowpay.request_id import request_id_get

# What a LogRecord carries by itself; everything else on a record came in through `extra=`.
_STANDARD = frozenset(RESERVED_ATTRS) | {"message", "asctime", "taskName"}


def record_extra(record: logging.LogRecord) -> dict:
    """The fields a call site added with `extra=` (and the request id added by RequestIdFilter)."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request (or of the request that started the task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = request_id_get()
            if request_id:
                record.request_id = request_id
        return True


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, every extra field, the traceback."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...`: the same fields as JSON, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = record_extra(record)
        if not extra:
            return line
        head, newline, traceback = line.partition("\n")
        fields = " ".join(f"{key}={value}" for key, value in extra.items())
        return f"{head}  {fields}{newline}{traceback}"
