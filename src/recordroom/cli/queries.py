"""`recordroom queries ...`: the query metrics per provider and per template, the
open queries, and the escalation run for unanswered ones (R-QRY-5)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import typer
from rich.table import Table

from .console import fail, out
from .setup import cli_actor, django_setup

queries_app = typer.Typer(
    help="Compliant queries: metrics, the open queries, escalation.",
    no_args_is_help=True,
)


def _day(text: str, option: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        fail(f"{option} {text!r} is not a date; give YYYY-MM-DD")


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value}%"


def _hours(value: Any) -> str:
    return "n/a" if value is None else f"{value} h"


@queries_app.command("metrics")
def metrics_command(
    since: str = typer.Option("", help="Queries sent on or after this date (YYYY-MM-DD)."),
    until: str = typer.Option("", help="Queries sent before this date (YYYY-MM-DD)."),
    facility: str = typer.Option("", help="Only this facility (its code)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Response rate, time to answer and agreement rate, per provider and template."""
    django_setup()
    from recordroom.queries.metrics import compute

    m = compute(user=None, since=_day(since, "--since"), until=_day(until, "--until"),
                facility=facility.strip().upper())  # fmt: skip
    if as_json:
        out.print_json(json.dumps(m.as_dict()))
        return
    for title, lines in (("By provider", m.by_provider), ("By template", m.by_template),
                         ("All queries", [m.total])):  # fmt: skip
        table = Table(title=title)
        for col in ("", "sent", "answered", "open", "withdrawn", "response rate",
                    "median time", "mean time", "agreement"):  # fmt: skip
            table.add_column(col, justify="left" if not col else "right")
        for x in lines:
            table.add_row(x.label, str(x.sent), str(x.answered), str(x.open),
                          str(x.withdrawn), _pct(x.response_rate),
                          _hours(x.median_hours), _hours(x.mean_hours),
                          _pct(x.agreement_rate))  # fmt: skip
        out.print(table)


@queries_app.command("list")
def list_command(
    status: str = typer.Option("", help="open (default), answered or withdrawn."),
    overdue: bool = typer.Option(False, help="Only open queries past their due date."),
) -> None:
    """The queries, oldest first (open ones unless a status is named)."""
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.queries import reads, services

    try:
        rows = services.worklist(user=None, status=status, overdue=overdue)
    except RecordroomError as exc:
        fail(exc.message)
    reads.audit_listed(cli_actor(), "queries (cli)", [q.patient_id for q in rows])
    table = Table(title=f"{len(rows)} queries")
    for col in ("number", "account", "provider", "status", "sent", "due", "escalation"):
        table.add_column(col, no_wrap=col in ("number", "account"))
    for q in rows:
        table.add_row(q.number, q.encounter.account_number, str(q.provider),
                      q.get_status_display(), f"{q.raised_at:%Y-%m-%d %H:%M}",
                      f"{q.due_at:%Y-%m-%d}",
                      services.escalation_label(q.escalation_level) or "-")  # fmt: skip
    out.print(table)


@queries_app.command("escalate")
def escalate_command() -> None:
    """Escalate the open queries unanswered past RECORDROOM_QUERY_ESCALATION_DAYS."""
    django_setup()
    from recordroom.queries import services

    done = services.escalate_due(actor=cli_actor())
    for q in done:
        out.print(f"{q.number} to {q.provider}: "
                  f"{services.escalation_label(q.escalation_level)}")  # fmt: skip
    out.print(f"{len(done)} queries escalated")
