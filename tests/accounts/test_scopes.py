"""SMART scopes: v1 and v2 syntax, what each allows, and narrowing one set by another."""

from __future__ import annotations

import pytest

from recordroom.accounts.scopes import (
    Scope,
    allows,
    format_scopes,
    narrow,
    parse_grantable,
    parse_scope,
    parse_scopes,
    readable_types,
    require_scope,
)
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed

ALL = ("read", "search", "create", "update", "delete")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("system/*.read", Scope("system", "*", "rs", v1=True)),
        ("system/Patient.read", Scope("system", "Patient", "rs", v1=True)),
        ("system/*.write", Scope("system", "*", "cud", v1=True)),
        ("system/Encounter.*", Scope("system", "Encounter", "cruds", v1=True)),
        ("user/*.read", Scope("user", "*", "rs", v1=True)),
        ("patient/*.read", Scope("patient", "*", "rs", v1=True)),
        ("system/Patient.rs", Scope("system", "Patient", "rs")),
        ("system/*.cruds", Scope("system", "*", "cruds")),
        ("system/DocumentReference.r", Scope("system", "DocumentReference", "r")),
        ("system/Patient.cud", Scope("system", "Patient", "cud")),
    ],
)
def test_v1_and_v2_scopes_parse_and_print_back_as_written(text, expected):
    scope = parse_scope(text)
    assert scope == expected
    assert str(scope) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("system/Patient.reed", "unknown permissions 'reed'"),
        ("system/Patient.sr", "unknown permissions 'sr'"),  # v2 letters out of order
        ("system/Patient.rr", "unknown permissions 'rr'"),
        ("system/Patient.", "unknown permissions ''"),
        ("system/patient.read", "names 'patient', which is neither * nor a FHIR"),
        ("system/Pat1ent.read", "names 'Pat1ent'"),
        ("admin/*.read", "is not a SMART scope"),
        ("Patient.read", "is not a SMART scope"),
        ("system/*", "is not a SMART scope"),
        ("system/Observation.rs?category=laboratory", "search parameters"),
        ("launch/patient", "SMART app launch"),
        ("openid", "SMART app launch or OpenID Connect"),
        ("offline_access", "SMART app launch"),
    ],
)
def test_malformed_scopes_are_refused_naming_the_scope(text, says):
    with pytest.raises(ValidationFailed) as exc:
        parse_scope(text)
    assert exc.value.message.startswith(f"scope '{text}' ")
    assert says in exc.value.message
    assert exc.value.field == "scope"


def test_a_scope_string_is_split_on_spaces_and_deduplicated():
    scopes = parse_scopes("  system/Patient.read\tsystem/*.rs system/Patient.read ")
    assert format_scopes(scopes) == "system/Patient.read system/*.rs"
    assert parse_scopes("") == ()


def test_patient_scopes_are_not_grantable_without_a_launch_context():
    with pytest.raises(ValidationFailed) as exc:
        parse_grantable("system/*.read patient/Observation.rs")
    assert exc.value.message == (
        "scope 'patient/Observation.rs' needs a patient launch context, which "
        "Recordroom does not offer (client credentials have no patient); ask for "
        "system/Observation.rs instead"
    )
    assert format_scopes(parse_grantable("system/*.read user/Patient.rs")) == (
        "system/*.read user/Patient.rs"
    )


@pytest.mark.parametrize(
    ("scopes", "granted"),
    [
        # v1: read covers read and search; write covers create, update and delete.
        ("system/*.read", {"read", "search"}),
        ("system/*.write", {"create", "update", "delete"}),
        ("system/*.*", set(ALL)),
        # v2: one letter per interaction.
        ("system/*.rs", {"read", "search"}),
        ("system/*.r", {"read"}),
        ("system/*.s", {"search"}),
        ("system/*.cruds", set(ALL)),
        ("system/*.cu", {"create", "update"}),
        ("system/*.d", {"delete"}),
        ("user/*.read", {"read", "search"}),
        # patient/ scopes need a compartment: they never allow anything here.
        ("patient/*.read", set()),
        ("", set()),
    ],
)
def test_allows_maps_permissions_to_interactions(scopes, granted):
    parsed = parse_scopes(scopes)
    assert {i for i in ALL if allows(parsed, "Encounter", i)} == granted


def test_allows_checks_the_resource_type_and_takes_strings_or_none():
    scopes = ["system/Patient.read", "system/Encounter.s"]
    assert allows(scopes, "Patient", "read") and allows(scopes, "Patient", "search")
    assert allows(scopes, "Encounter", "search")
    assert not allows(scopes, "Encounter", "read")
    assert not allows(scopes, "DocumentReference", "search")
    assert not allows(scopes, "Patient", "create")
    # None: a user's own API token, limited by the role alone.
    assert allows(None, "AuditEvent", "delete")
    with pytest.raises(ValueError, match="unknown interaction 'vread'"):
        allows(scopes, "Patient", "vread")


@pytest.mark.parametrize(
    ("requested", "held", "granted"),
    [
        # Asking for less than held: granted as asked.
        ("system/Patient.read", "system/*.read", "system/Patient.read"),
        ("system/Patient.r", "system/*.cruds", "system/Patient.r"),
        # Asking for more: cut down, in the style asked for.
        ("system/*.read", "system/Patient.rs system/Encounter.r",
         "system/Patient.read system/Encounter.r"),
        ("system/*.cruds", "system/*.read", "system/*.rs"),
        ("system/*.*", "system/*.read", "system/*.read"),
        ("system/*.read system/*.write", "system/Patient.cruds",
         "system/Patient.read system/Patient.write"),
        # Nothing in common.
        ("system/Encounter.read", "system/Patient.read", ""),
        ("system/Patient.write", "system/Patient.read", ""),
        ("user/Patient.read", "system/Patient.read", ""),
        # Covered twice: kept once.
        ("system/Patient.read system/Patient.rs system/*.read", "system/*.read",
         "system/*.read"),
    ],
)  # fmt: skip
def test_narrow_grants_what_is_both_asked_for_and_held(requested, held, granted):
    result = narrow(parse_scopes(requested), parse_scopes(held))
    assert format_scopes(result) == granted


def test_require_scope_refuses_naming_the_granted_scopes_and_the_one_needed():
    actor = Actor(scopes=("system/Patient.read",), client_id="rrc_1")
    require_scope(actor, "Patient", "search")
    with pytest.raises(PermissionDenied) as exc:
        require_scope(actor, "Encounter", "search")
    assert exc.value.message == (
        "the access token's scopes (system/Patient.read) do not allow search of "
        "Encounter; that needs system/Encounter.read (SMART v2: system/Encounter.s), "
        "granted to the client by an administrator"
    )
    require_scope(Actor(), "Encounter", "delete")  # no scopes: the role decides


def test_readable_types_keeps_what_the_scopes_allow_or_refuses_what_is_asked():
    offered = ["Patient", "Encounter", "DocumentReference"]
    client = Actor(scopes=("system/Patient.read", "system/Encounter.rs"))
    assert readable_types(client, None, offered) == ["Patient", "Encounter"]
    assert readable_types(client, ["Encounter"], offered) == ["Encounter"]
    with pytest.raises(PermissionDenied, match="do not allow read of DocumentRef"):
        readable_types(client, ["Patient", "DocumentReference"], offered)
    with pytest.raises(PermissionDenied) as exc:
        readable_types(Actor(scopes=("system/Binary.read",)), None, offered)
    assert exc.value.message == (
        "the access token's scopes (system/Binary.read) allow reading none of "
        "Patient, Encounter, DocumentReference; ask for system/*.read or name types "
        "with _type"
    )
    assert readable_types(Actor(), None, offered) == offered  # no scopes
