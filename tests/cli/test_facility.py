"""`recordroom facility create|list`, and `import fhir` naming the facilities."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app
from recordroom.mpi.models import Facility

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    result.text = " ".join(result.output.split())  # Rich wraps at the console width
    return result


def test_facility_create_makes_an_audited_facility_and_list_shows_it(db):
    made = invoke("facility", "create", "west", "--name", "West Valley Clinic",
                  "--timezone", "America/Denver")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "created facility WEST: West Valley Clinic" in made.text
    facility = Facility.objects.get(code="WEST")
    assert facility.timezone == "America/Denver"
    assert facility.mrn_system == "urn:recordroom:facility:west:mrn"
    event = AuditEvent.objects.get(action="facility.create")
    assert event.channel == "cli"
    assert json.loads(event.detail)["code"] == "WEST"
    listed = invoke("facility", "list")
    assert listed.exit_code == 0
    assert "WEST" in listed.text and "America/Denver" in listed.text


def test_facility_create_refuses_bad_input_saying_what_was_wrong(db):
    zone = invoke("facility", "create", "EAST", "--name", "East",
                  "--timezone", "Mars/Olympus")  # fmt: skip
    assert zone.exit_code == 1
    assert "'Mars/Olympus' is not an IANA time zone name" in zone.text
    invoke("facility", "create", "EAST", "--name", "East", "--timezone", "UTC")
    again = invoke("facility", "create", "east", "--name", "East 2",
                   "--timezone", "UTC")  # fmt: skip
    assert again.exit_code == 1 and "facility EAST already exists" in again.text
    assert Facility.objects.filter(code="EAST").count() == 1
    assert AuditEvent.objects.filter(action="facility.create").count() == 1


def test_facility_list_with_none_says_how_to_create_one(db):
    listed = invoke("facility", "list")
    assert "no facilities yet" in listed.text
    assert "recordroom facility create CODE" in listed.text


def test_import_fhir_names_the_facilities_when_none_or_an_unknown_one_is_given(
    db, facility, other_facility, tmp_path
):
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": []}))  # fmt: skip
    none = invoke("import", "fhir", str(bundle))
    assert none.exit_code == 2
    assert "--facility, one of NORTH, SOUTH" in none.text
    unknown = invoke("import", "fhir", str(bundle), "--facility", "EAST")
    assert unknown.exit_code == 2
    assert "no facility 'EAST'; choose --facility from: NORTH, SOUTH" in unknown.text


def test_import_fhir_without_any_facility_says_how_to_create_one(db, tmp_path):
    bundle = tmp_path / "b.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}')
    result = invoke("import", "fhir", str(bundle))
    assert result.exit_code == 2
    assert "recordroom facility create CODE" in result.text
