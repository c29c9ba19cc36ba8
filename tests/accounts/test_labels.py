"""Who may read which sensitivity label: the shipped defaults, the one check, grants
per role and per user, and break-the-glass (R-MIN-3, R-SEC-1, R-PN-2, R-P2-1)."""

from __future__ import annotations

import json

import pytest

from recordroom.accounts import labels
from recordroom.accounts.models import BreakGlass, LabelGrant, LabelPolicy
from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.kernel.labels import CHART_LABELS, LABELS
from tests import factories


@pytest.fixture
def staff(db, facility):
    return {
        role: factories.user(f"l-{role}", role, facilities=[facility])
        for role in ("him_specialist", "roi_specialist", "coder", "provider",
                     "privacy_officer", "him_manager", "auditor")
    }  # fmt: skip


def test_every_label_has_a_policy_with_the_default_grants(db):
    assert set(LabelPolicy.objects.values_list("label", flat=True)) == {
        label.code for label in (*LABELS, *CHART_LABELS)
    }
    table = {code: (always, glass) for code, _, always, glass in labels.label_table()}
    assert table["SUD"] == (
        ["HIM manager", "Privacy officer", "Provider", "ROI specialist"],
        [],
    )
    assert table["PSYTHPN"] == ([], ["Privacy officer"])
    assert table["HIV"][1] == ["HIM specialist"]
    assert "Coder" in table["HIV"][0] and "Provider" in table["GDIS"][0]
    assert table["VIP"][0] == ["HIM manager", "Privacy officer"]


def test_r_p2_1_r_pn_2_the_defaults_by_role(staff):
    him, roi, coder, doctor, privacy, manager, _ = staff.values()
    assert not labels.can_read(him, ["SUD"]) and not labels.can_read(coder, ["ETH"])
    assert labels.can_read(doctor, ["SUD", "ETH"]) and labels.can_read(roi, ["SUD"])
    for user in staff.values():  # psychotherapy notes: nobody by role alone
        assert not labels.can_read(user, ["PSYTHPN"])
    assert labels.can_read(coder, ["HIV", "GDIS", "SDV"])
    assert not labels.can_read(him, ["HIV"])
    assert labels.can_read(manager, ["VIP"]) and not labels.can_read(doctor, ["VIP"])
    assert labels.can_read(him, []) and labels.can_read(
        him, ["N"]
    )  # nothing restricted
    assert labels.can_read(None, ["PSYTHPN"])  # the system itself (imports, tasks)


def test_the_author_reads_their_own_psychotherapy_note_but_not_a_vip_chart(staff):
    doctor = staff["provider"]
    result = labels.access(doctor, ["PSYTHPN", "PSY"], author_user_id=doctor.pk)
    assert result.allowed and result.how == "author"
    assert result.audit() == {"label_access": "author"}
    assert not labels.access(doctor, ["VIP"], author_user_id=doctor.pk).allowed
    him = staff["him_specialist"]  # PSY only by break-the-glass, but their own note
    assert labels.access(him, ["PSY"], author_user_id=him.pk).how == "author"


def test_refusal_names_the_label_in_plain_words_and_what_to_do(staff):
    with pytest.raises(PermissionDenied) as exc:
        labels.require_read(staff["him_specialist"], ["SUD"], what="this document")
    assert exc.value.message == (
        "this document is restricted (Substance use disorder information (42 CFR "
        "Part 2)); your role (HIM specialist) may not read it: ask your privacy "
        "officer for access"
    )
    with pytest.raises(PermissionDenied, match="give a reason to break the glass"):
        labels.require_read(staff["provider"], ["VIP"], what="this chart")


def test_a_per_user_grant_opens_a_label_to_one_person(staff):
    him = staff["him_specialist"]
    factories.grant_labels(him, "SUD")
    assert labels.access(him, ["SUD"]).how == "grant"
    other = factories.user("him-other", "him_specialist")
    assert not labels.can_read(other, ["SUD"])


def test_r_sec_1_break_the_glass_needs_a_reason_is_audited_and_time_boxed(
    staff, patient
):
    doctor = staff["provider"]
    actor = factories.actor(doctor)
    with pytest.raises(ValidationFailed, match="give the reason"):
        labels.break_the_glass(actor=actor, patient_id=patient.pk, labels=["VIP"],
                               reason="test")  # fmt: skip
    row = labels.break_the_glass(actor=actor, patient_id=patient.pk, labels=["VIP"],
                                 reason="Chest pain in the ED, no other record")  # fmt: skip
    assert (row.expires_at - row.at).total_seconds() == labels.BREAK_GLASS_HOURS * 3600
    event = AuditEvent.objects.get(action="chart.break_glass")
    assert event.patient_id == str(patient.pk) and event.username == doctor.username
    detail = json.loads(event.detail)
    assert detail["reason"] == "Chest pain in the ED, no other record"
    assert detail["labels"] == ["VIP"]
    result = labels.access(doctor, ["VIP"], patient_id=patient.pk)
    assert result.allowed and result.how == "break-the-glass"
    assert not labels.can_read(doctor, ["VIP"])  # another chart: still closed
    BreakGlass.objects.filter(pk=row.pk).update(expires_at=row.at)
    doctor.__dict__.pop("_label_grants")
    assert not labels.can_read(doctor, ["VIP"], patient_id=patient.pk)  # expired


def test_break_the_glass_refused_where_no_reason_opens_the_label(staff, patient):
    with pytest.raises(PermissionDenied, match="ask your privacy officer"):
        labels.break_the_glass(actor=factories.actor(staff["coder"]),
                               patient_id=patient.pk, labels=["PSYTHPN"],
                               reason="I would like to read it")  # fmt: skip
    assert not BreakGlass.objects.exists()


def test_set_grant_changes_the_admin_data_and_is_audited(staff):
    him = staff["him_specialist"]
    labels.set_grant(actor=factories.SYSTEM, label="SUD", role="him_specialist")
    him.__dict__.pop("_label_grants", None)
    assert labels.can_read(him, ["SUD"])
    event = AuditEvent.objects.filter(action="labels.change").latest("pk")
    assert json.loads(event.detail) == {
        "label": "SUD",
        "role": "him_specialist",
        "grant": "always",
    }
    labels.set_grant(actor=factories.SYSTEM, label="SUD", role="him_specialist",
                     revoke=True)  # fmt: skip
    him.__dict__.pop("_label_grants", None)
    assert not labels.can_read(him, ["SUD"])
    with pytest.raises(ValidationFailed, match="unknown label 'XYZ'"):
        labels.set_grant(actor=factories.SYSTEM, label="XYZ", role="coder")


def test_seeding_keeps_what_an_administrator_changed(db):
    policy = LabelPolicy.objects.get(label="HIV")
    policy.grants.all().delete()
    labels.seed_label_policies()
    assert not LabelGrant.objects.filter(policy=policy).exists()


def test_the_admin_changes_a_labels_grants_and_the_change_is_audited(db, facility):
    from django.contrib.auth.models import Group

    from tests.web.conftest import signed_in

    client = signed_in(factories.user("adm-l", "administrator"))
    listing = client.get("/admin/accounts/labelpolicy/")
    assert listing.status_code == 200
    assert "Psychotherapy note" in listing.content.decode()
    policy = LabelPolicy.objects.get(label="SUD")
    grants = list(policy.grants.order_by("pk"))
    data = {
        "grants-TOTAL_FORMS": len(grants) + 1, "grants-INITIAL_FORMS": len(grants),
        "grants-MIN_NUM_FORMS": 0, "grants-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for i, g in enumerate(grants):
        data |= {f"grants-{i}-id": g.pk, f"grants-{i}-policy": policy.pk,
                 f"grants-{i}-group": g.group_id}  # fmt: skip
    n = len(grants)
    data |= {f"grants-{n}-policy": policy.pk,
             f"grants-{n}-group": Group.objects.get(name="HIM specialist").pk}  # fmt: skip
    url = f"/admin/accounts/labelpolicy/{policy.pk}/change/"
    assert client.post(url, data).status_code == 302
    him = factories.user("him-adm", "him_specialist", facilities=[facility])
    assert labels.can_read(him, ["SUD"])
    event = AuditEvent.objects.filter(action="admin.change").latest("pk")
    assert json.loads(event.detail)["object"].startswith("SUD:")
