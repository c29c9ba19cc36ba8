"""The `recordroom` command line, run in-process against the test database."""

import pytest
from tests.audit.test_chain import _events, _tamper
from typer.testing import CliRunner

from recordroom.accounts.models import User
from recordroom.accounts.services import user_for_token
from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app

runner = CliRunner()


def invoke(*args, **env):
    return runner.invoke(app, list(args), env=env or None, catch_exceptions=False)


def test_init_creates_an_administrator_once(db):
    first = invoke("init", "--admin", "chief")
    assert first.exit_code == 0, first.output
    assert "password (shown once)" in first.output
    user = User.objects.get(username="chief")
    assert user.role_names() == ["Administrator"] and user.requires_mfa()
    again = invoke("init", "--admin", "chief")
    assert (
        "already exists" in again.output
        and User.objects.filter(username="chief").count() == 1
    )


def test_audit_verify_reports_intact_then_names_the_broken_event(db):
    _events(3)
    ok = invoke("audit", "verify")
    assert ok.exit_code == 0
    assert ok.output.strip().splitlines()[-1] == "intact: 3 events (keyed)"
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["auth.logout", 2])
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "broken at event 2" in bad.output


def test_user_and_token_create(db, facility):
    made = invoke("user", "create", "coder7", "--role", "coder", "--facility", "NORTH")
    assert made.exit_code == 0, made.output
    user = User.objects.get(username="coder7")
    assert user.role_names() == ["Coder"] and user.facility_ids() == [facility.pk]
    out = invoke("token", "create", "coder7", "--name", "scripts")
    token = out.output.strip().splitlines()[-1]
    assert token.startswith("rr_") and user_for_token(token) == user
    assert AuditEvent.objects.filter(action="auth.token_created").exists()


def test_user_create_with_the_name_and_title_letters_are_signed_with(db, facility):
    made = invoke("user", "create", "mferreira", "--role", "roi_specialist",
                  "--facility", "NORTH", "--first-name", "Marisol", "--last-name",
                  "Ferreira", "--title", "Release of Information Specialist")  # fmt: skip
    assert made.exit_code == 0, made.output
    user = User.objects.get(username="mferreira")
    assert user.signature() == ["Marisol Ferreira", "Release of Information Specialist"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "create", "x", "--role", "wizard"), "unknown role 'wizard'"),
        (
            ("user", "create", "y", "--role", "coder", "--facility", "NOPE"),
            "unknown facility code(s): NOPE",
        ),
        (("token", "create", "ghost"), "no active user named 'ghost'"),
    ],
)
def test_cli_errors_name_the_problem(db, args, message):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_audit_export_writes_fhir_ndjson_and_is_audited(db, tmp_path):
    import json

    _events(2)
    target = tmp_path / "audit.ndjson"
    result = invoke("audit", "export", "--output", str(target))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["resourceType"] for e in lines] == ["AuditEvent", "AuditEvent"]
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.outcome) == ("audit.export", "success")
    assert json.loads(last.detail)["count"] == 2


def test_audit_export_refuses_a_patient_that_is_not_an_id(db):
    result = runner.invoke(app, ["audit", "export", "--patient", "smith"])
    assert result.exit_code == 1
    assert "must be a patient id" in result.output
