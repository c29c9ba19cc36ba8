"""Django set-up for CLI commands, and the CLI's Actor."""

from __future__ import annotations

import getpass
import os
import socket

from recordroom.kernel.actor import Actor


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
    import django

    django.setup()


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
