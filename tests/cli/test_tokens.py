"""API tokens expire by default; administrators' within days; the CLI says when, and
lists the tokens that never expire (R-SEC-1)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from tests import factories
from typer.testing import CliRunner

from recordroom.accounts.models import ApiToken
from recordroom.accounts.services import create_token
from recordroom.cli.app import app
from recordroom.kernel.errors import ValidationFailed

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def lengths(settings):
    settings.TOKEN_DAYS, settings.TOKEN_MAX_DAYS, settings.ADMIN_TOKEN_DAYS = 90, 365, 7
    return settings


def _days_left(row: ApiToken) -> float:
    return (row.expires_at - timezone.now()) / timedelta(days=1)


def test_a_token_created_without_days_expires_after_the_default(him, lengths):
    row, _ = create_token(actor=factories.SYSTEM, username=him.username)
    assert row.expires_at is not None and 89.9 < _days_left(row) <= 90


def test_an_administrators_token_lives_days_at_most(db, lengths):
    factories.user("root1", "administrator", all_facilities=True)
    row, _ = create_token(actor=factories.SYSTEM, username="root1")
    assert 6.9 < _days_left(row) <= 7
    with pytest.raises(ValidationFailed, match=(
        "an administrator's API token may live at most 7 days "
        r"\(RECORDROOM_ADMIN_TOKEN_DAYS\); 30 asked"
    )):  # fmt: skip
        create_token(actor=factories.SYSTEM, username="root1", days=30)


def test_no_token_outlives_the_maximum(him, lengths):
    with pytest.raises(ValidationFailed, match="at most 365 days"):
        create_token(actor=factories.SYSTEM, username=him.username, days=3650)
    assert not ApiToken.objects.exists()


def test_token_create_prints_when_it_expires(him, lengths):
    out = invoke("token", "create", him.username, "--days", "30")
    assert out.exit_code == 0, out.output
    row = ApiToken.objects.get()
    assert f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC (in 30 days)" in out.output
    refused = runner.invoke(app, ["token", "create", him.username, "--days", "400"])
    assert refused.exit_code != 0 and "at most 365 days" in refused.output


def test_token_list_names_tokens_that_never_expire(him, lengths):
    old, _ = create_token(actor=factories.SYSTEM, username=him.username, name="legacy")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=None)  # from before expiry
    new, _ = create_token(actor=factories.SYSTEM, username=him.username, name="scan")
    out = invoke("token", "list")
    assert out.exit_code == 0, out.output
    lines = {line.split()[0]: line for line in out.output.splitlines() if "…" in line}
    assert "NEVER EXPIRES" in lines[f"{old.prefix}…"]
    assert f"{new.expires_at:%Y-%m-%d}" in lines[f"{new.prefix}…"]
    assert "1 token never expires" in out.output
    only = invoke("token", "list", "--never-expiring")
    assert old.prefix in only.output and new.prefix not in only.output


def test_the_admin_cannot_give_a_token_no_expiry_or_one_past_the_maximum(him, lengths):
    from recordroom.accounts.admin import ApiTokenForm

    row, _ = create_token(actor=factories.SYSTEM, username=him.username, days=10)

    def edit(expires_at):
        return ApiTokenForm(
            {"name": "scan", "expires_at": expires_at, "revoked_at": ""}, instance=row
        )

    never = edit("")
    assert not never.is_valid()
    assert "every API token expires" in never.errors["expires_at"][0]
    late = edit((row.created_at + timedelta(days=400)).strftime("%Y-%m-%d %H:%M"))
    assert not late.is_valid()
    assert "may live at most 365 days" in late.errors["expires_at"][0]
    sooner = edit((row.created_at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M"))
    assert sooner.is_valid(), sooner.errors
    # A token from before expiry was the default may keep "never" until replaced.
    ApiToken.objects.filter(pk=row.pk).update(expires_at=None)
    row.refresh_from_db()
    assert edit("").is_valid()
