"""Django set-up for CLI commands, and the CLI's Actor."""

from __future__ import annotations

import getpass
import os
import socket
from typing import NoReturn

from recordroom.kernel.actor import Actor


def django_setup(*, keys_optional: bool = False) -> None:
    """Set Django up; refuse (exit 2, naming the key file) when a key is missing.

    `keys_optional` is for the commands that set a data folder up (init, demo,
    restore): they may start without keys on a folder that holds no data yet.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
    import django

    from recordroom.kernel import keys

    try:
        django.setup()
        if not keys_optional:
            keys.require()
    except keys.MissingKey as exc:
        _refuse(exc.message)


def _refuse(message: str) -> NoReturn:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}")
    raise SystemExit(2)


def first_time_keys() -> list[str]:
    """Create the keys of a new installation (init, demo); refuse on existing data."""
    from recordroom.kernel import keys

    try:
        return [str(p) for p in keys.create_first_time()]
    except keys.MissingKey as exc:
        _refuse(exc.message)


def cli_actor() -> Actor:
    """The operator at the terminal: the OS user, from this host, as the system."""
    try:
        who = getpass.getuser()
    except Exception:  # no login name (e.g. a container with an unknown uid)
        who = str(os.getuid())
    return Actor(
        channel="cli",
        client_address=socket.gethostname()[:64],
        name=f"cli:{who}",
    )


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
