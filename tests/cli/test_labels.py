"""`recordroom labels list|grant|revoke`: who may read which label, from the terminal."""

from __future__ import annotations

import json

from tests import factories
from typer.testing import CliRunner

from recordroom.accounts.labels import can_read
from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app

runner = CliRunner()


def test_list_grant_and_revoke(db):
    listed = runner.invoke(app, ["labels", "list"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    assert "Psychotherapy note" in listed.output and "Privacy officer" in listed.output
    him = factories.user("him-cli", "him_specialist")
    granted = runner.invoke(app, ["labels", "grant", "sud", "--role", "him_specialist"])
    assert granted.exit_code == 0, granted.output
    assert "HIM specialist may now read SUD always" in granted.output
    assert can_read(him, ["SUD"])
    event = AuditEvent.objects.filter(action="labels.change").latest("pk")
    assert event.channel == "cli" and json.loads(event.detail)["grant"] == "always"
    runner.invoke(app, ["labels", "revoke", "SUD", "--role", "him_specialist"])
    him.__dict__.pop("_label_grants")
    assert not can_read(him, ["SUD"])
    bad = runner.invoke(app, ["labels", "grant", "XYZ", "--role", "coder"])
    assert bad.exit_code == 1 and "unknown label 'XYZ'" in bad.output
