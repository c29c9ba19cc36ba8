"""The `recordroom` command line (Typer): init, demo, serve, worker, audit, user, token."""

from __future__ import annotations


def main() -> None:
    from .app import app

    app()
