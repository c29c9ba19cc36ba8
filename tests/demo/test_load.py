"""Loading the demo: determinism, idempotency, resumption, ground truth, PDFs, audit."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pypdf
import pytest
from django.db import transaction

from recordroom.audit import chain
from recordroom.audit.models import AuditEvent
from recordroom.demo import load_demo
from recordroom.kernel.blobs import default_store
from recordroom.mpi.models import Patient, PatientIdentifier
from recordroom.queries.models import Query
from recordroom.records.doctypes import SEED
from recordroom.records.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Encounter,
    Signature,
)

AS_OF = date(2025, 6, 30)


class _Undo(Exception):
    pass


def _truth(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _snapshot(data_dir: Path) -> dict[str, object]:
    mrns = PatientIdentifier.objects.filter(kind="MR").order_by("patient_id", "value")
    patients = Patient.objects.order_by("id")
    return {
        "people": [
            (n.family, n.given, p.birth_date)
            for p in patients.prefetch_related("names")
            for n in p.names.all()
        ],
        "mrns": list(mrns.values_list("value", flat=True)),
        "accounts": list(Encounter.objects.order_by("id").values_list("account_number")),
        "pdfs": list(DocumentVersion.objects.order_by("id").values_list("sha256", flat=True)),
        "truth": [{k: v for k, v in row.items() if k != "patient_id"}
                  for row in _truth(data_dir / "demo" / "ground-truth.csv")],
    }  # fmt: skip


@pytest.mark.django_db
def test_same_seed_gives_the_same_population_byte_for_byte(tmp_path):
    snapshots = []
    for workers in (0, 2):  # in-process and in a worker pool: same bytes
        try:
            with transaction.atomic():
                load_demo(patients=24, seed=5, data_dir=tmp_path, as_of=AS_OF,
                          workers=workers)  # fmt: skip
                snapshots.append(_snapshot(tmp_path))
                raise _Undo  # roll back to start the second load on an empty database
        except _Undo:
            pass
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["mrns"]) >= 24  # type: ignore[arg-type]


@pytest.fixture
def demo(db, tmp_path):
    summary = load_demo(patients=30, seed=42, data_dir=tmp_path, as_of=AS_OF)
    return summary, tmp_path


def test_load_counts_and_audits_what_it_wrote_and_a_second_load_adds_nothing(demo):
    summary, data_dir = demo
    assert not summary.already_loaded
    assert summary.people == 30
    assert summary.patients == Patient.objects.count() >= 30
    assert summary.encounters == Encounter.objects.count()
    assert 4 <= summary.encounters / summary.patients <= 7
    # every document has its original; the demo's accepted amendments add addenda
    originals = DocumentVersion.objects.filter(kind="original").count()
    # the demo's answered queries add signed response documents (demo/queries.py)
    answers = Document.objects.filter(doc_type__code="QRYRESP").count()
    signed_answers = Query.objects.filter(status="answered").count()
    assert summary.documents == Document.objects.count() - answers == originals - answers
    assert summary.signatures == Signature.objects.count() - signed_answers
    assert summary.unsigned > 0
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions["patient.create"] == summary.patients
    assert actions["encounter.create"] == summary.encounters
    assert actions["document.create"] == summary.documents + answers
    assert actions["document.sign"] == summary.signatures + signed_answers
    assert actions["demo.load"] == 1
    assert chain.verify().intact
    events = AuditEvent.objects.count()
    again = load_demo(patients=30, seed=42, data_dir=data_dir, as_of=AS_OF)
    assert again.already_loaded
    assert (again.patients, again.documents) == (summary.patients, summary.documents)
    assert Patient.objects.count() == summary.patients
    assert AuditEvent.objects.count() == events


def test_ground_truth_links_duplicates_and_keeps_twins_apart(demo):
    summary, data_dir = demo
    rows = _truth(data_dir / "demo" / "ground-truth.csv")
    assert len(rows) == summary.patients
    ids = {str(pk) for pk in Patient.objects.values_list("id", flat=True)}
    assert {r["patient_id"] for r in rows} == ids
    mrn_of = {(str(p), v) for p, v in PatientIdentifier.objects.filter(kind="MR")
              .values_list("patient_id", "value")}  # fmt: skip
    assert all((r["patient_id"], r["mrn"]) in mrn_of for r in rows)
    by_person = defaultdict(list)
    for row in rows:
        by_person[row["person_id"]].append(row["relation"])
    duplicates = [rels for rels in by_person.values() if len(rels) > 1]
    assert len(duplicates) == summary.duplicates
    assert all(rels[0] == "original" and rels[1].startswith("duplicate:")
               for rels in duplicates)  # fmt: skip
    twins = [r["person_id"] for r in rows if r["relation"] == "twin"]
    assert len(twins) == len(set(twins)) == summary.twins


def test_documents_cover_every_type_as_real_pdfs_some_sensitive_some_unsigned(demo):
    codes = set(Document.objects.exclude(doc_type__code="QRYRESP")
                .values_list("doc_type__code", flat=True))  # fmt: skip
    assert codes == {code for _s, code, *_ in SEED}
    labelled = Counter(
        label for labels in Document.objects.values_list("sensitivity", flat=True)
        for label in labels
    )  # fmt: skip
    assert {"PSYTHPN", "SUD", "HIV"} <= set(labelled)
    needs = DocumentType.objects.filter(requires_signature=True)
    unsigned = Document.objects.filter(
        doc_type__in=needs, author__isnull=False
    ).exclude(versions__signatures__isnull=False)
    assert unsigned.exists()
    signature = Signature.objects.select_related("version").first()
    assert signature.sha256 == signature.version.sha256
    assert signature.signed_at >= signature.version.created_at
    times = Encounter.objects.values_list("admit_at", "discharge_at")
    assert all(out is None or out >= admit for admit, out in times)
    assert all(admit.tzinfo is not None and admit.second == 0 for admit, _ in times)
    _check_pdfs()


def _check_pdfs() -> None:
    """Real PDFs: text ones name the patient; scanned ones are images, no text."""
    store = default_store()
    seen: set[str] = set()
    scans = 0
    for doc in Document.objects.select_related("doc_type", "patient").order_by("id"):
        scanned = doc.source == "scan"
        if doc.doc_type.code in seen and not scanned:
            continue
        seen.add(doc.doc_type.code)
        version = doc.versions.get()
        reader = pypdf.PdfReader(io.BytesIO(store.get(version.sha256)))
        text = "".join(page.extract_text() for page in reader.pages)
        # the name the patient had on the day: papers before a marriage show the old one
        families = {n.family.upper() for n in doc.patient.names.all()}
        if scanned:
            scans += 1
            assert text.strip() == "" and reader.pages[0].images
        else:
            assert any(f in text for f in families), (doc.doc_type.code, families)
            assert "MRN" in text and doc.doc_type.display in text
    assert scans > 0


@pytest.mark.django_db
def test_an_interrupted_load_resumes_without_duplicating(tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first_batch(done: int, total: int) -> None:
        if done < total:
            raise Stop

    with pytest.raises(Stop):
        load_demo(patients=8, seed=3, data_dir=tmp_path, as_of=AS_OF, batch_size=4,
                  progress=stop_after_first_batch)  # fmt: skip
    first = Patient.objects.count()
    assert first > 0
    summary = load_demo(
        patients=8, seed=3, data_dir=tmp_path, as_of=AS_OF, batch_size=4
    )
    assert Patient.objects.count() == summary.patients > first
    assert len(_truth(tmp_path / "demo" / "ground-truth.csv")) == summary.patients
    assert chain.verify().intact


def test_the_release_desk_has_requests_of_every_kind(demo):
    from recordroom.release.models import Disclosure, Letter, ReleaseRequest

    summary, _ = demo
    assert summary.release_requests == ReleaseRequest.objects.count() == 10
    kinds = set(ReleaseRequest.objects.values_list("requester_type", flat=True))
    assert {"patient", "attorney", "subpoena", "court-order", "provider"} <= kinds
    pended = ReleaseRequest.objects.get(requester_type="attorney")
    assert pended.status == "pending"
    assert Letter.objects.filter(request=pended, kind="defect").count() == 1
    public_health = Disclosure.objects.filter(legal_basis="public-health")
    assert public_health.count() == 3 and all(d.accountable for d in public_health)
    assert chain.verify().intact


def test_the_amendments_desk_has_requests_at_every_stage(demo):
    from recordroom.amendments.models import AmendmentRequest

    summary, _ = demo
    assert summary.amendment_requests == AmendmentRequest.objects.count() == 10
    statuses = set(AmendmentRequest.objects.values_list("status", flat=True))
    assert {"received", "author-review", "reviewed", "accepted"} <= statuses
    assert AmendmentRequest.objects.filter(extended_to__isnull=False).count() == 1
    assert AmendmentRequest.objects.filter(received_how="other-entity").count() == 1
    assert chain.verify().intact


def test_the_demo_providers_have_deficiencies_in_their_inboxes(demo):
    from recordroom.completion.models import Deficiency
    from recordroom.demo.inbox import INBOX_PROVIDERS
    from recordroom.demo.places import roster

    summary, _ = demo
    npis = [p.npi for p in roster()[:INBOX_PROVIDERS]]
    held = Deficiency.objects.filter(provider__npi__in=npis, status="open")
    assert summary.inbox_deficiencies == held.count() > 0
    assert held.filter(kind="signature", document__isnull=False).exists()


def test_r_qry_5_the_demo_has_queries_at_every_stage(demo):
    summary, _ = demo
    assert summary.queries == Query.objects.count() == 7
    statuses = list(Query.objects.values_list("status", flat=True))
    assert statuses.count("open") == 3 and statuses.count("answered") == 3
    assert statuses.count("withdrawn") == 1
    levels = sorted(Query.objects.filter(status="open")
                    .values_list("escalation_level", flat=True))  # fmt: skip
    assert levels == [0, 1, 2]
    assert Query.objects.filter(answer_version__kind="addendum").count() == 1
    assert all(q.indicators.exists() for q in Query.objects.all())
    assert chain.verify().intact
