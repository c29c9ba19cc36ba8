"""Background work of the linkage engine (run by `recordroom worker`)."""

from __future__ import annotations

from django_tasks import task

from .scan_requests import run_request


@task()
def scan_task(request_id: str) -> str:
    """Run a queued "Scan now" (scan_requests.run_request)."""
    return run_request(request_id)
