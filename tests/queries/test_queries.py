"""Compliant queries (R-QRY-1 to R-QRY-5): the builder's refusals, the indicators
quoted from the record, the provider's answer signed in the record, the deficiency,
escalation and the metrics. Real database, real PDFs."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from recordroom.audit.models import AuditEvent
from recordroom.completion.models import Deficiency, Kind
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.queries import metrics, services, wording
from recordroom.queries.models import Query, QueryTemplate, Status
from recordroom.records.models import Signature
from tests import factories


def _text(version) -> str:
    data = default_store().get(version.sha256)
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_r_qry_2_a_query_quotes_its_indicators_with_source_and_date(
    make_query, note, hemoglobin
):
    q = make_query()
    assert q.number.startswith("QRY-") and q.status == "open"
    lab, span = q.indicators.all()
    assert (lab.kind, lab.label, lab.value, lab.units, lab.flags) == (
        "lab", "Hemoglobin", "7.1", "g/dL", "L")
    assert lab.source == "CBC panel (Laboratory), North Lab"
    assert lab.effective_at == hemoglobin.effective_at and not lab.prior_encounter
    assert (span.kind, span.value, span.page, span.version.number) == (
        "treatment", "Transfused two units of packed red cells", 1, 1)
    assert span.document_id == note.pk and span.effective_at == note.service_start
    assert span.source == "Progress note, version 1, page 1"
    event = AuditEvent.objects.get(action="query.raise")
    assert event.patient_id == str(q.patient_id) and json.loads(event.detail)["indicators"] == 2


def test_r_qry_2_a_quote_not_in_the_document_is_refused(make_query, note):
    with pytest.raises(ValidationFailed, match="is not in Progress note version 1"):
        make_query(indicators=[services.IndicatorIn(
            document_id=note.pk, quote="Patient has septic shock")])  # fmt: skip
    assert not Query.objects.exists()


def test_r_qry_2_no_indicator_is_refused(make_query):
    with pytest.raises(ValidationFailed, match="R-QRY-2: quote at least one"):
        make_query(indicators=[])


def test_r_qry_2_indicators_from_a_prior_encounter_are_marked(
    make_query, patient, facility, doctor, hemoglobin
):
    later = factories.encounter(patient=patient, facility=facility, account="V-Q2",
                                days_ago=2)  # fmt: skip
    q = make_query(encounter=later, document=None, indicators=[
        services.IndicatorIn(observation_id=hemoglobin.pk)])  # fmt: skip
    assert q.indicators.get().prior_encounter is True


@pytest.mark.parametrize("question", [
    "Please clarify the anemia; it affects the DRG.",
    "Clarify the anemia type for reimbursement purposes.",
    "The payment for this stay depends on the anemia type: please clarify.",
    "Please clarify the anemia type (case mix index).",
    "Clarify the anemia, which changes the $ amount.",
])  # fmt: skip
def test_r_qry_3_a_query_never_names_money(make_query, question):
    with pytest.raises(ValidationFailed, match="R-QRY-3: a query never mentions"):
        make_query(question=question)


@pytest.mark.parametrize("question", [
    "Please document acute blood loss anemia.",
    "You must document the type of anemia by Friday.",
    "The anemia is clearly acute blood loss anemia; please clarify.",
    "Failure to answer will make the record delinquent.",
])  # fmt: skip
def test_r_qry_3_directives_and_pressure_are_refused(make_query, question):
    with pytest.raises(ValidationFailed, match="R-QRY-3: the wording directs"):
        make_query(question=question)


def test_r_qry_3_a_single_diagnosis_as_the_only_option_is_refused(make_query):
    with pytest.raises(ValidationFailed, match="R-QRY-3: offer at least two"):
        make_query(options=["Acute blood loss anemia"])


def test_r_qry_3_a_question_that_answers_itself_is_refused(make_query):
    with pytest.raises(ValidationFailed, match="R-QRY-3: the question leads"):
        make_query(format="open", options=[],
                   question="Can you confirm that the patient has sepsis?")  # fmt: skip


def test_r_qry_3_every_problem_is_listed_at_once():
    found = wording.problems(
        format="multiple", purpose="", question="Please document sepsis for the DRG.",
        options=["Sepsis"], yes_no_ground="", indicators=0, documentation_indicators=0,
        purposes=["ambiguous"], grounds=["poa"])  # fmt: skip
    assert [p.rule for p in found] == [
        "R-QRY-1", "R-QRY-3", "R-QRY-3", "R-QRY-2", "R-QRY-3"]


def test_r_qry_4_multiple_choice_always_offers_other_and_undetermined(make_query):
    q = make_query()
    assert q.options == ["Acute blood loss anemia", "Anemia of chronic disease",
                         "Other", "Clinically undetermined"]  # fmt: skip


def test_r_qry_4_yes_no_for_a_new_diagnosis_is_refused(make_query):
    with pytest.raises(ValidationFailed, match="R-QRY-4: a yes/no query may never "
                       "obtain a new diagnosis"):  # fmt: skip
        make_query(format="yes-no", options=[],
                   question="Does the patient have acute blood loss anemia?")  # fmt: skip


def test_r_qry_4_yes_no_for_poa_needs_the_documented_condition(
    make_query, note, hemoglobin
):
    question = "Heart failure is documented in the progress note. Was it present " \
               "at the time of the inpatient admission?"
    with pytest.raises(ValidationFailed, match="quote where the record documents it"):
        make_query(format="yes-no", yes_no_ground="poa", options=[], question=question,
                   indicators=[services.IndicatorIn(observation_id=hemoglobin.pk)])  # fmt: skip
    q = make_query(format="yes-no", yes_no_ground="poa", options=[], question=question,
                   indicators=[services.IndicatorIn(
                       document_id=note.pk, kind="documentation",
                       quote="Heart failure, on furosemide")])  # fmt: skip
    assert q.options == ["Yes", "No", "Clinically undetermined"]


def test_r_qry_1_a_query_says_why_it_is_needed(make_query):
    with pytest.raises(ValidationFailed, match="R-QRY-1"):
        make_query(purpose="")


def test_r_qry_5_shipped_templates_pass_the_builder_and_preselect_nothing(db):
    templates = list(QueryTemplate.objects.all())
    assert len(templates) >= 8
    for t in templates:
        text = t.question.replace("{", "").replace("}", "")
        found = wording.problems(
            format=t.format, purpose=t.purpose, question=text, options=t.options,
            yes_no_ground=t.yes_no_ground, indicators=1, documentation_indicators=1,
            purposes=[t.purpose], grounds=["poa", "confirm", "cause-effect", "conflict"])  # fmt: skip
        assert found == [], (t.code, found)
        assert services.from_template(t)["menu"] == t.options  # a menu, not answers
    assert {t.format for t in templates} == {"open", "multiple", "yes-no"}


def test_r_qry_5_a_template_placeholder_left_is_refused(make_query):
    t = QueryTemplate.objects.get(code="poa-status")
    with pytest.raises(ValidationFailed, match="replace the words in"):
        make_query(template=t, format="yes-no", yes_no_ground="poa", options=[],
                   question=t.question)  # fmt: skip


def test_r_qry_5_a_query_is_a_query_pending_deficiency_of_the_provider(
    make_query, doctor, visit
):
    q = make_query()
    d = Deficiency.objects.get(pk=q.deficiency_id)
    assert (d.kind, d.status, d.provider_id, d.encounter_id) == (
        Kind.QUERY, "open", doctor.pk, visit.pk)
    assert d.description.startswith(f"Query {q.number}: Based on the clinical")
    assert [x.number for x in services.open_queries_for(doctor)] == [q.number]
    assert services.open_count_for(doctor) == 1


def test_r_qry_5_the_answer_is_a_signed_document_in_the_record(
    make_query, doctor, doctor_actor, visit
):
    q = make_query()
    q = services.answer_query(actor=doctor_actor, query=q,
                              answer="Acute blood loss anemia",
                              comment="Postoperative, transfused.")  # fmt: skip
    assert q.status == Status.ANSWERED and q.agreed is True
    doc = q.answer_document
    assert (doc.doc_type.code, doc.encounter_id, doc.author_id) == (
        "QRYRESP", visit.pk, doctor.pk)
    sig = Signature.objects.get(version=q.answer_version)
    assert sig.signer_id == doctor.pk and sig.sha256 == q.answer_version.sha256
    text = _text(q.answer_version)
    assert q.number in text and "Acute blood loss anemia" in text
    assert "Patient: NÚÑEZ, José" in text and "MRN: N100001" in text
    assert "Hemoglobin: 7.1 g/dL" in text and "Transfused two units" in text
    assert not wording.MONEY.search(text)  # never names reimbursement
    assert Deficiency.objects.get(pk=q.deficiency_id).status == "closed"
    assert services.open_count_for(doctor) == 0
    actions = list(AuditEvent.objects.filter(patient_id=str(q.patient_id))
                   .values_list("action", flat=True))  # fmt: skip
    assert {"query.raise", "query.answer", "query.deficiency", "document.sign"} <= set(
        actions)


def test_r_qry_5_the_answer_as_an_addendum_to_the_document_queried(
    make_query, doctor_actor, note
):
    q = make_query(format="open", options=[],
                   question="Based on the clinical indicators below, please clarify "
                            "the condition being monitored and treated.")  # fmt: skip
    q = services.answer_query(actor=doctor_actor, query=q, as_addendum=True,
                              answer_text="Acute blood loss anemia after surgery.")  # fmt: skip
    assert q.answer_document_id == note.pk and q.answer_version.number == 2
    assert q.answer_version.kind == "addendum" and q.agreed is None
    text = _text(q.answer_version)
    assert "Hemoglobin dropped after surgery." in text  # the note's own page kept
    assert "Acute blood loss anemia after surgery." in text


def test_r_qry_5_only_the_provider_queried_answers_and_only_an_offered_answer(
    make_query, facility
):
    q = make_query()
    other = factories.provider(family="Other", given="Doc")
    user = factories.user("other", "provider", facilities=[facility])
    other.user = user
    other.save()
    with pytest.raises(PermissionDenied, match="addressed to William Osler"):
        services.answer_query(actor=factories.actor(user), query=q,
                              answer="Acute blood loss anemia")  # fmt: skip
    with pytest.raises(ValidationFailed, match="choose one of the answers offered"):
        services.answer_query(actor=factories.SYSTEM, query=q, answer="Sepsis")
    with pytest.raises(ValidationFailed, match="for \u201cOther\u201d"):
        services.answer_query(actor=factories.SYSTEM, query=q, answer="Other")
    assert Query.objects.get(pk=q.pk).status == "open"


def test_r_qry_5_withdrawal_keeps_the_query_and_waives_its_deficiency(
    make_query, cdi_actor
):
    q = make_query()
    services.withdraw_query(actor=cdi_actor, query=q, reason="documented meanwhile")
    q.refresh_from_db()
    assert (q.status, q.withdrawn_reason) == ("withdrawn", "documented meanwhile")
    assert Deficiency.objects.get(pk=q.deficiency_id).status == "waived"


def test_r_qry_5_escalation_of_unanswered_queries(make_query, settings):
    settings.QUERY_ESCALATION_DAYS = (2, 7)
    q = make_query()
    now = timezone.now()
    assert services.escalate_due(actor=factories.SYSTEM, now=now) == []
    assert [x.pk for x in services.escalate_due(
        actor=factories.SYSTEM, now=now + timedelta(days=3))] == [q.pk]  # fmt: skip
    assert services.escalate_due(actor=factories.SYSTEM,
                                 now=now + timedelta(days=4)) == []  # fmt: skip
    services.escalate_due(actor=factories.SYSTEM, now=now + timedelta(days=8))
    q.refresh_from_db()
    assert q.escalation_level == 2
    assert AuditEvent.objects.filter(action="query.update",
                                     detail__contains="escalate").count() == 2  # fmt: skip


def test_metrics_response_time_and_agreement_per_provider_and_template(
    make_query, doctor, doctor_actor, cdi_actor
):
    t = QueryTemplate.objects.get(code="anemia-type")
    a = make_query(template=t)
    b = make_query(template=t)
    make_query()  # open, no template
    c = make_query(template=t)
    Query.objects.filter(pk=a.pk).update(raised_at=timezone.now() - timedelta(hours=10))
    a.refresh_from_db()
    services.answer_query(actor=doctor_actor, query=a, answer="Acute blood loss anemia")
    services.answer_query(actor=doctor_actor, query=b, answer="Clinically undetermined")
    services.withdraw_query(actor=cdi_actor, query=c, reason="asked in error")
    m = metrics.compute(user=cdi_actor.user)
    total = m.total
    assert (total.sent, total.answered, total.open, total.withdrawn) == (4, 2, 1, 1)
    assert total.response_rate == pytest.approx(66.7)
    assert total.agreement_rate == 50.0
    assert 9.9 <= total.hours[0] + total.hours[1] <= 10.2
    (line,) = m.by_provider
    assert line.label == str(doctor) and line.sent == 4
    anemia = next(x for x in m.by_template if x.key == "anemia-type")
    assert (anemia.sent, anemia.answered, anemia.agreement_rate) == (3, 2, 50.0)
    assert any(x.key == "(none)" for x in m.by_template)
