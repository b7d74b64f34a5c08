"""One id per request, in every log line it causes, the Celery tasks it starts included.

The id comes from the `X-Request-ID` header when a proxy in front of us set a sane one (so its
access log and ours share it), else it is generated; it is echoed in the response header. Tasks
carry it in a message header set when they are published and restored in the worker before they
run; tasks run eagerly (no broker) run inside the request and simply keep it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from celery.signals import before_task_publish, task_prerun

HEADER = "X-Request-ID"
TASK_HEADER = "knowpay_request_id"
# What a proxy may hand us: short, printable, nothing that could forge a log line or a header.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id_get() -> str:
    """The id of the request or task being served now, or "" outside of both."""
    return _request_id.get()


def request_id_from_header(value: str | None) -> str:
    """The header's id if it is sane, else a new one."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost middleware: every log line of the request, and its response, carry the id."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get(HEADER))
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


@before_task_publish.connect(dispatch_uid="knowpay.request_id.publish")
def _task_carries_request_id(headers=None, **kwargs) -> None:
    request_id = _request_id.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


@task_prerun.connect(dispatch_uid="knowpay.request_id.prerun")
def _task_restores_request_id(task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    if request is None or request.is_eager:
        return  # run inside the request (or the caller), whose id it already has
    # A worker runs one task after another in the same context: each one sets (or clears) the id,
    # which stays until the next task, so the worker's own lines after the run carry it too.
    request_id = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    _request_id.set(request_id or "")
