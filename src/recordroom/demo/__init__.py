"""Synthetic population generator with ground truth (deterministic by seed).

Other apps use: `load_demo`, `DemoSummary`, `create_demo_users`, `DEMO_PASSWORD`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import DemoSummary, load_demo
    from .users import DEMO_PASSWORD, create_demo_users

__all__ = ["DEMO_PASSWORD", "DemoSummary", "create_demo_users", "load_demo"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not need Django set up (the CLI imports it
    # before configuring settings).
    if name in ("DemoSummary", "load_demo"):
        from . import loader

        return getattr(loader, name)
    if name in ("DEMO_PASSWORD", "create_demo_users"):
        from . import users

        return getattr(users, name)
    raise AttributeError(f"module 'recordroom.demo' has no attribute {name!r}")
