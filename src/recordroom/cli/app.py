"""Command definitions. Each command is a thin adapter: set up, call services, print."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path

import typer

from recordroom.kernel.files import private_dir

from .audit import audit_app
from .backup import backup as _backup
from .backup import keys_app
from .backup import restore as _restore
from .capture import capture_app
from .clients import client_app
from .coding import codes_app, coding_app
from .completion import completion_app
from .console import fail, out
from .facility import facility_app
from .hl7 import hl7_app
from .interop import import_app
from .labels import labels_app
from .mpi import mpi_app
from .mpi_dashboard import dashboard as _dashboard  # noqa: F401  (adds `mpi dashboard`)
from .mpi_overlays import overlays as _overlays  # noqa: F401  (adds `mpi overlays`)
from .queries import queries_app
from .roi import roi_app
from .setup import cli_actor, django_setup, first_time_keys, migrate

app = typer.Typer(
    help="Recordroom: the medical records department's system.",
    no_args_is_help=True,
    add_completion=False,
)
user_app = typer.Typer(help="User accounts.")
token_app = typer.Typer(help="Per-user API tokens (stored hashed; shown once).")
app.add_typer(audit_app, name="audit")
app.add_typer(capture_app, name="capture")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(client_app, name="client")
app.add_typer(completion_app, name="completion")
app.add_typer(codes_app, name="codes")
app.add_typer(coding_app, name="coding")
app.add_typer(facility_app, name="facility")
app.add_typer(hl7_app, name="hl7")
app.add_typer(import_app, name="import")
app.add_typer(mpi_app, name="mpi")
app.add_typer(queries_app, name="queries")
app.add_typer(roi_app, name="roi")
app.add_typer(keys_app, name="keys")
app.command("backup")(_backup)
app.command("restore")(_restore)
app.add_typer(labels_app, name="labels")


def _data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR)


def _ensure_admin(username: str, password: str | None) -> str | None:
    """Create the first administrator; return the password if one was generated."""
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_user

    if User.objects.filter(username=username).exists():
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    create_user(
        actor=cli_actor(),
        username=username,
        role="administrator",
        password=password,
        all_facilities=True,
    )
    return generated


@app.command()
def init(
    admin: str = typer.Option("admin", help="User name of the first administrator."),
    admin_password: str = typer.Option(
        None,
        envvar="RECORDROOM_ADMIN_PASSWORD",
        help="Its password (generated if omitted).",
    ),
) -> None:
    """Create the data folder, its keys and database, migrate, create an administrator.

    Keys are created only here (and by `demo`) on a new folder; on one that holds data
    without its keys, init refuses rather than make new ones.
    """
    django_setup(keys_optional=True)
    data = private_dir(_data_dir())
    created = first_time_keys()
    migrate()
    generated = _ensure_admin(admin, admin_password)
    from django.db import connection

    out.print(f"data folder: {data}")
    out.print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    for path in created:
        out.print(
            f"key created: {path} (export it with `recordroom keys export` and keep "
            "it apart from backups)"
        )
    if generated:
        out.print(
            f"administrator '{admin}' created; password (shown once): {generated}"
        )
        out.print(
            "The administrator must set up a TOTP second factor at first sign-in."
        )
    else:
        out.print(f"administrator '{admin}' already exists")


@app.command()
def demo(
    patients: int = typer.Option(2000, min=1, help="Synthetic patients to generate."),
    seed: int = typer.Option(
        42, help="Random seed: the same seed gives the same population."
    ),
    port: int = typer.Option(8000, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Load, then exit."),
) -> None:
    """Init plus a synthetic population (with ground truth), then serve."""
    django_setup(keys_optional=True)
    from rich.progress import Progress

    from recordroom.demo import create_demo_users, load_demo
    from recordroom.kernel.errors import RecordroomError

    data = private_dir(_data_dir())
    first_time_keys()
    migrate()
    _refuse_non_demo_data()
    try:
        with Progress(console=out, transient=True) as progress:
            bar = progress.add_task("loading synthetic patients", total=patients)
            summary = load_demo(
                patients=patients,
                seed=seed,
                data_dir=data,
                progress=lambda done, total: progress.update(
                    bar, completed=done, total=total
                ),
            )
    except RecordroomError as exc:
        fail(exc.message)
    if summary.already_loaded:
        out.print(f"demo population already loaded in {data}; nothing added")
    else:
        out.print(
            f"loaded {summary.people} people as {summary.patients} patient records "
            f"({summary.duplicates} planted duplicates, {summary.twins} twins), "
            f"{summary.encounters} encounters, {summary.documents} documents "
            f"in {summary.seconds:.1f} s"
        )
        out.print(f"ground truth: {data / 'demo' / 'ground-truth.csv'}")
    _demo_traffic(data)
    _demo_scan()
    _demo_background(data, seed)
    out.print(
        "\n[bold]Demo sign-ins[/] (synthetic data only; second factor waived for demo):"
    )
    for username, role, password in create_demo_users():
        out.print(f"  {role:<18} {username:<16} {password}")
    if not no_serve:
        worker = _demo_worker()
        try:
            _serve(host, port, workers=2)
        finally:
            worker.terminate()


def _demo_scan() -> None:
    """A duplicate scan of the loaded index, so that the worklist opens full (once:
    a demo folder with a finished scan keeps it)."""
    from recordroom.mpi.linkage.models import LinkageRun, RunStatus
    from recordroom.mpi.linkage.services import scan_index

    if LinkageRun.objects.filter(status=RunStatus.FINISHED).exists():
        return
    started = time.perf_counter()
    # 200,000 random pairs estimate u well for the demo's couple of thousand records
    # (the same pairs as the default million) at a quarter of the CPU time.
    run = scan_index(actor=cli_actor(), u_pairs=200_000)
    out.print(
        f"duplicate scan: {run.records:,} records, {run.stored_pairs:,} pairs on the "
        f"worklist in {time.perf_counter() - started:.1f} s"
    )


def _demo_background(data: Path, seed: int) -> None:
    """Work the demo's worker does once it starts: read the demo's scanned batches so
    that the indexing queue fills (once per folder), then index the loaded documents'
    text for search inside documents (the bulk load writes versions directly)."""
    from recordroom.demo.setup import feed_demo_capture_queue
    from recordroom.records.tasks import index_missing_text

    fed = feed_demo_capture_queue(data, seed=seed, actor=cli_actor())
    out.print(f"capture: {len(fed)} scanned batches handed to the worker for reading")
    index_missing_text.enqueue()  # after the batches: the queue fills first


def _demo_worker() -> subprocess.Popen[bytes]:
    """`recordroom worker` beside the demo's server, so that Scan now and bulk
    exports run; it stops with the demo."""
    return subprocess.Popen(
        [sys.executable, "-c", "from recordroom.cli import main; main()", "worker"]
    )


def _demo_traffic(data: Path) -> None:
    """Some interface traffic, so the Interfaces page shows what feeds look like."""
    from recordroom.interop.sample_traffic import send_sample_traffic
    from recordroom.mpi.models import Facility

    facility = Facility.objects.order_by("code").first()
    if facility is None:
        return
    sent = send_sample_traffic(
        actor=cli_actor(), facility=facility, folder=data / "demo"
    )
    if not sent.already:
        out.print(
            f"interfaces: {sent.accepted} HL7 messages accepted and {sent.refused} "
            f"refused at {facility.code}; one FHIR import run ({sent.imported} "
            "resources created)"
        )


def _refuse_non_demo_data() -> None:
    """Demo accounts have a published password and no second factor: never add them
    (or synthetic patients) to a database holding anything but the demo. Patients
    outside the demo's own facilities mean real (or other) data is there."""
    from recordroom.demo.places import FACILITIES
    from recordroom.mpi.models import PatientIdentifier

    demo_systems = [f.mrn_system for f in FACILITIES]
    foreign = PatientIdentifier.objects.filter(kind="MR").exclude(
        system__in=demo_systems
    )
    if foreign.exists():
        fail(
            "this database holds patients the demo did not load; `recordroom demo` "
            "adds synthetic data and demo accounts (published password, no second "
            "factor), so it runs only on a new data folder: set RECORDROOM_DATA_DIR to "
            "an empty folder"
        )


def _serve(host: str, port: int, workers: int) -> None:
    from .server import run_server
    from .setup import pending_migrations

    if pending_migrations():
        fail("the database is not migrated; run 'recordroom init' first")
    out.print(f"\nserving on http://{host}:{port}/  (Ctrl-C to stop)")
    run_server(host=host, port=port, workers=workers)


@app.command()
def serve(
    port: int = typer.Option(8000, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on."),
    workers: int = typer.Option(2, min=1, help="Worker processes."),
) -> None:
    """Serve the web app and API with gunicorn (a production server)."""
    django_setup()
    _serve(host, port, workers)


@app.command()
def worker(
    batch: bool = typer.Option(False, "--batch", help="Run what is queued, then exit."),
) -> None:
    """Run background tasks from the database queue; at start, mark failed the import
    runs a killed process left running; write a signed audit checkpoint at start and
    every RECORDROOM_AUDIT_CHECKPOINT_MINUTES; queue the chart analysis and the capture
    type model's retraining nightly."""
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    from recordroom.completion.tasks import analyze_charts_task

    from .housekeeping import (
        checkpoint_now,
        fail_abandoned_imports,
        start_nightly,
        start_schedule,
    )

    fail_abandoned_imports()
    from recordroom.capture.tasks import requeue_interrupted

    requeue_interrupted()  # batches a killed worker left resume after their last step
    checkpoint_now()
    if not batch:
        start_schedule(settings.AUDIT_CHECKPOINT_MINUTES)
        # Chart completion's nightly analysis (issue 14), queued at 02:00 UTC.
        start_nightly(analyze_charts_task.enqueue, name="chart-analysis")
        # Capture's document-type model, retrained nightly when anything was filed.
        from recordroom.capture.tasks import nightly_retrain

        start_nightly(nightly_retrain, name="capture-retrain", hour=3)

    args = ["db_worker", "--queue-name", "*", "--no-startup-delay"]
    if batch:
        args.append("--batch")
    call_command(*args)


@user_app.command("create")
def user_create(
    username: str,
    role: str = typer.Option(
        ...,
        help="Role key: "
        + ", ".join(
            [
                "him_specialist",
                "roi_specialist",
                "coder",
                "provider",
                "privacy_officer",
                "him_manager",
                "auditor",
                "administrator",
            ]
        ),
    ),
    facility: list[str] = typer.Option(
        None, help="Facility code in scope (repeatable)."
    ),
    all_facilities: bool = typer.Option(False, help="Every facility in scope."),
    email: str = typer.Option("", help="E-mail address."),
    first_name: str = typer.Option("", help="Given name, as letters are signed."),
    last_name: str = typer.Option("", help="Family name, as letters are signed."),
    title: str = typer.Option(
        "",
        help="Job title printed under the name (e.g. 'Release of Information "
        "Specialist').",
    ),
    password: str = typer.Option(
        None, envvar="RECORDROOM_NEW_PASSWORD", help="Password (generated if omitted)."
    ),
) -> None:
    """Create a user in one role, scoped to facilities. Letters are signed with the
    full name and title (or the department's name when the user has none)."""
    django_setup()
    from recordroom.accounts.services import create_user
    from recordroom.kernel.errors import RecordroomError

    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    try:
        user = create_user(
            actor=cli_actor(),
            username=username,
            role=role,
            password=password,
            email=email,
            facility_codes=list(facility or []),
            all_facilities=all_facilities,
            first_name=first_name,
            last_name=last_name,
            job_title=title,
        )
    except RecordroomError as exc:
        fail(exc.message)
    out.print(
        f"created user '{user.username}' with role {', '.join(user.role_names())}"
    )
    if generated:
        out.print(f"password (shown once): {generated}")


@token_app.command("create")
def token_create(
    username: str,
    name: str = typer.Option("", help="What the token is for."),
    days: int = typer.Option(
        None,
        min=1,
        help="Expire after this many days (default RECORDROOM_TOKEN_DAYS; at most "
        "RECORDROOM_TOKEN_MAX_DAYS, or RECORDROOM_ADMIN_TOKEN_DAYS for an "
        "administrator).",
    ),
) -> None:
    """Issue an API token; it is printed once, alone on the last line."""
    django_setup()
    from recordroom.accounts.services import create_token
    from recordroom.kernel.errors import RecordroomError

    try:
        row, token = create_token(
            actor=cli_actor(), username=username, name=name, days=days
        )
    except RecordroomError as exc:
        fail(exc.message)
    assert row.expires_at is not None
    lifetime = round((row.expires_at - row.created_at).total_seconds() / 86400)
    out.print(
        f"API token {row.prefix}… for '{username}', expires "
        f"{row.expires_at:%Y-%m-%d %H:%M} UTC (in {lifetime} days); store it now, "
        "it is not kept:"
    )
    print(token)


@token_app.command("list")
def token_list(
    never_expiring: bool = typer.Option(
        False, "--never-expiring", help="Only tokens that never expire."
    ),
) -> None:
    """List active API tokens (never the tokens themselves), marking those that
    never expire: tokens issued before expiry was the default; replace them."""
    django_setup()
    from recordroom.accounts.services import active_tokens

    rows = list(active_tokens(never_expiring=never_expiring))
    for row in rows:
        expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "NEVER EXPIRES"
        used = f"{row.last_used_at:%Y-%m-%d}" if row.last_used_at else "never"
        out.print(
            f"{row.prefix}…  {row.user.username}  {row.name or '-'}  created "
            f"{row.created_at:%Y-%m-%d}  expires {expires}  last used {used}",
            highlight=False,
        )
    forever = sum(1 for row in rows if row.expires_at is None)
    if forever:
        out.print(
            f"{forever} token{' never expires' if forever == 1 else 's never expire'}"
            ": issue a new one (`recordroom token create`) and revoke it "
            "(`recordroom token revoke PREFIX`)."
        )
    elif not rows:
        out.print("no active API tokens")


@token_app.command("revoke")
def token_revoke(prefix: str) -> None:
    """Revoke an API token by its prefix."""
    django_setup()
    from recordroom.accounts.services import revoke_token
    from recordroom.kernel.errors import RecordroomError

    try:
        revoke_token(actor=cli_actor(), prefix=prefix)
    except RecordroomError as exc:
        fail(exc.message)
    out.print(f"revoked token {prefix}…")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (for administrators), e.g. `recordroom manage check`."""
    django_setup()
    from django.core.management import execute_from_command_line

    from recordroom.audit.services import record
    from recordroom.kernel import actions

    # Management commands can read or export anything (dumpdata, shell): each run is
    # audited with its arguments before it starts.
    record(
        actor=cli_actor(),
        action=actions.CLI_MANAGE.name,
        detail={"argv": [str(a)[:200] for a in ctx.args]},
    )
    execute_from_command_line(["recordroom manage", *ctx.args])
