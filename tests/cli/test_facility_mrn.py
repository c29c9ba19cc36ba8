"""`recordroom facility mrn`: show and set a facility's MRN assignment (audited)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app
from recordroom.mpi.models import Facility


def invoke(*args):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    result.text = " ".join(result.output.split())  # Rich wraps at the console width
    return result


def test_facility_mrn_shows_sets_and_audits(db, facility):
    shown = invoke("facility", "mrn", "north")
    assert shown.exit_code == 0, shown.output
    assert "NORTH: MRNs from another system (typed or sent)" in shown.text
    made = invoke("facility", "mrn", "NORTH", "--source", "here", "--width", "6",
                  "--prefix", "n", "--check-digit", "luhn", "--next", "500")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "NORTH: MRNs assigned here; width 6, prefix N, check digit luhn, next " \
        "number 500 (issued as N0005009)" in made.text  # fmt: skip
    facility = Facility.objects.get(pk=facility.pk)
    assert (facility.mrn_source, facility.mrn_next) == ("here", 500)
    event = AuditEvent.objects.get(action="facility.mrn_settings")
    assert event.channel == "cli"
    assert json.loads(event.detail)["after"]["mrn_check_digit"] == "luhn"


def test_facility_mrn_refuses_bad_values_by_name(db, facility):
    bad = invoke("facility", "mrn", "NORTH", "--check-digit", "verhoeff")
    assert bad.exit_code != 0
    assert "check digit 'verhoeff' is not one of none, luhn, mod11" in bad.text
    unknown = invoke("facility", "mrn", "NOPE")
    assert unknown.exit_code != 0 and "no facility 'NOPE'" in unknown.text
    assert not AuditEvent.objects.filter(action="facility.mrn_settings").exists()
