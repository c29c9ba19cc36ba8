"""The analysis runs where a chart changes: an HL7 A03 discharge and an MDM document
filed (R-RC-6), without anybody asking for it."""

from __future__ import annotations

from recordroom.completion.models import Deficiency
from recordroom.interop.hl7v2.services import handle
from recordroom.records.models import Encounter
from tests.interop.hl7v2.messages import adt, mdm, pv1


def run_queued_analyses() -> int:
    """What `recordroom worker` does with the analyses an interface queued."""
    from django_tasks_db.models import DBTaskResult

    from recordroom.completion.tasks import analyze_visit_task

    queued = DBTaskResult.objects.filter(task_path__endswith="analyze_visit_task")
    for row in queued:
        analyze_visit_task.call(*row.args_kwargs["args"])
    count = queued.count()
    queued.delete()
    return count


def test_r_rc_6_a03_opens_the_discharge_summary_and_mdm_closes_it(facility):
    assert handle(adt("A01", "C1", visit=pv1())).code == "AA"
    enc = Encounter.objects.get(account_number="V5001")
    run_queued_analyses()
    assert not Deficiency.objects.filter(encounter=enc).exists()  # A01 alone: nothing
    ack = handle(adt("A03", "C2", visit=pv1(disposition="01", discharge="20250105")))
    assert ack.code == "AA", ack.text
    # the ACK did not wait for the analysis: the message queued it for the worker
    assert not Deficiency.objects.filter(encounter=enc).exists()
    assert run_queued_analyses() == 1
    ds = Deficiency.objects.get(encounter=enc, rule__code="discharge-summary")
    assert (ds.status, ds.kind) == ("open", "missing-document")
    assert ds.due_at is not None and ds.due_at.date().isoformat() == "2025-02-04"
    filed = handle(mdm("T02", "C3", lines=("Discharge summary.",
                                            "Discharge diagnoses: pneumonia.",
                                            "Disposition: home.")))  # fmt: skip
    assert filed.code == "AA", filed.text
    assert run_queued_analyses() == 1
    ds.refresh_from_db()
    assert ds.status == "closed"


def test_the_nightly_task_analyses_discharged_and_in_house_visits(facility):
    from recordroom.completion.tasks import analyze_charts_task

    assert handle(adt("A01", "C1", visit=pv1(admit="20260101083000"))).code == "AA"
    Deficiency.objects.all().delete()
    result = analyze_charts_task.call(days=3650)
    # In house: the H&P (R-RC-3) only.
    assert result == {"open": {"missing-document": 1}}
    enc = Encounter.objects.get(account_number="V5001")
    assert Deficiency.objects.get(encounter=enc).rule.code == "hp-admission"
