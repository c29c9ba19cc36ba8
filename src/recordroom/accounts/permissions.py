"""Permission checks shared by every adapter (web pages, API routes, CLI)."""

from __future__ import annotations

from typing import Any

from recordroom.kernel.errors import PermissionDenied

from .roles import PERMISSIONS


def has(user: Any, capability: str) -> bool:
    if capability not in PERMISSIONS:
        raise KeyError(f"unknown capability {capability!r}; declared in accounts.roles")
    # Roles are the only source of capabilities: a Django superuser flag grants none.
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and capability in user.capabilities()
    )


def require(user: Any, capability: str) -> None:
    """Raise PermissionDenied naming the capability the user's roles lack."""
    if not has(user, capability):
        roles = ", ".join(user.role_names()) if user is not None else "none"
        raise PermissionDenied(
            f"your role ({roles or 'none'}) does not allow: {PERMISSIONS[capability].lower()}"
        )
