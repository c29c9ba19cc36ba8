"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def recordroom(request: HttpRequest) -> dict[str, Any]:
    from .inbox.views import badge

    user = getattr(request, "user", None)
    return {
        # called by the template only where shown (users who sign documents)
        "inbox_badge": lambda: badge(request),
        "session_idle_minutes": settings.SESSION_IDLE_MINUTES,
        "demo_account": bool(
            user and user.is_authenticated and user.mfa_waived_for_demo
        ),
    }
