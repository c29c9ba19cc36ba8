"""The `recordroom` command line (Typer): init, demo, serve, worker, audit, user, token."""

from __future__ import annotations


def main() -> None:
    from recordroom.kernel.files import private_umask

    private_umask()  # data files readable by the service account only
    from .app import app

    app()
