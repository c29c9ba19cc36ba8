"""The provider's inbox pages: the badge on the landing page, deficiencies by
patient, one deficiency signed from its page (R-RC-1), the signing pass (each
shown, then signed or skipped), filing a typed document, refusing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.completion.models import Deficiency
from recordroom.records.models import Provider, Signature
from tests import factories
from tests.completion.charts import ADMIT, file, visit

from .conftest import signed_in


@pytest.fixture
def attending(db):
    return factories.provider("Attending", "Alice")


@pytest.fixture
def doctor(facility, attending):
    user = factories.user("dr.alice", "provider", facilities=[facility])
    Provider.objects.filter(pk=attending.pk).update(user=user)
    return user


def _charts(facility, attending, n=2):
    notes = []
    for i in range(n):
        who = factories.patient(facility=facility, family=f"Inbox{i}", given="Pat")
        enc = visit(patient=who, facility=facility, attending=attending)
        notes.append(file(enc, "11506-3", ADMIT + timedelta(days=1), author=attending,
                          text=f"Progress note {i}"))  # fmt: skip
    return notes


def _sig(note):
    return Deficiency.objects.get(document=note, kind="signature")


def _view(client, doc):
    """What the page's viewer does: fetch the version's content (audited)."""
    got = client.get(f"/documents/{doc.pk}/content?how=view&disposition=inline")
    assert got.status_code == 200


def test_badge_and_list_by_patient(doctor, facility, attending):
    _charts(facility, attending)
    client = signed_in(doctor)
    home = client.get("/").content.decode()
    assert 'aria-label="6 open">6</span>' in home  # 2 charts x 3 deficiencies
    assert "Your inbox holds <strong>6</strong> open items" in home
    page = client.get("/inbox/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('class="data worklist inbox-patient"') == 2
    assert "INBOX0, Pat" in body and "INBOX1, Pat" in body
    assert "Sign in one pass (2 awaiting a signature)" in body
    # each patient listed is audited as a read
    assert AuditEvent.objects.filter(action="completion.view").count() == 2


def test_an_unlinked_provider_is_told_why_the_inbox_is_empty(facility):
    user = factories.user("dr.none", "provider", facilities=[facility])
    body = signed_in(user).get("/inbox/").content.decode()
    assert "not linked to a provider" in body


def test_r_rc_1_sign_from_the_inbox_closes_the_deficiency(doctor, facility, attending):
    (note,) = _charts(facility, attending, n=1)
    d = _sig(note)
    client = signed_in(doctor)
    page = client.get(f"/inbox/deficiencies/{d.pk}").content.decode()
    sha = note.versions.get().sha256
    assert f'name="sha256" value="{sha}"' in page
    # Not yet shown (the viewer has not fetched it): refused, nothing signed.
    refused = client.post(f"/inbox/deficiencies/{d.pk}/sign", {"sha256": sha},
                          follow=True)  # fmt: skip
    assert "before signing it" in refused.content.decode()
    _view(client, note)
    done = client.post(f"/inbox/deficiencies/{d.pk}/sign", {"sha256": sha},
                       follow=True)  # fmt: skip
    assert "the deficiency is closed" in done.content.decode()
    sig = Signature.objects.get(version__document=note)
    assert (sig.signer_id, sig.sha256, sig.meaning) == (attending.pk, sha, "author")
    d.refresh_from_db()
    assert d.status == "closed"


def test_r_rc_1_the_pass_shows_each_then_signs_or_skips(doctor, facility, attending):
    notes = _charts(facility, attending, n=3)
    client = signed_in(doctor)
    start = client.post("/inbox/pass")
    assert start["Location"] == f"/inbox/deficiencies/{_sig(notes[0]).pk}"
    for i, note in enumerate(notes):
        page = client.get(f"/inbox/deficiencies/{_sig(note).pk}").content.decode()
        assert f'<strong class="pass-at">{i + 1}</strong> of 3' in page
        if i == 1:
            nxt = client.post(f"/inbox/deficiencies/{_sig(note).pk}/skip")
        else:
            _view(client, note)
            nxt = client.post(f"/inbox/deficiencies/{_sig(note).pk}/sign",
                              {"sha256": note.versions.get().sha256})  # fmt: skip
        if i < 2:
            assert nxt["Location"] == f"/inbox/deficiencies/{_sig(notes[i + 1]).pk}"
    assert nxt["Location"] == "/inbox/"
    end = client.get("/inbox/").content.decode()
    assert "Pass finished: 2 signed, 1 skipped." in end
    assert [_sig(n).status for n in notes] == ["closed", "open", "closed"]


def test_file_a_typed_discharge_summary_and_refuse_one(doctor, facility, attending):
    (note,) = _charts(facility, attending, n=1)
    enc = note.encounter
    summary = Deficiency.objects.get(encounter=enc, rule__code="discharge-summary")
    client = signed_in(doctor)
    page = client.get(f"/inbox/deficiencies/{summary.pk}").content.decode()
    assert "File the missing document" in page
    when = (enc.discharge_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    done = client.post(f"/inbox/deficiencies/{summary.pk}/file", {
        "doc_type": "18842-5", "service_start": when,
        "text": "Discharge summary. Discharge diagnoses: pneumonia. Follow-up: GP.",
    }, follow=True)  # fmt: skip
    assert "Discharge summary filed; the deficiency is closed." in done.content.decode()
    summary.refresh_from_db()
    assert summary.status == "closed"
    hp = Deficiency.objects.get(encounter=enc, rule__code="hp-admission")
    empty = client.post(f"/inbox/deficiencies/{hp.pk}/refuse", {"reason": ""},
                        follow=True)  # fmt: skip
    assert "say why the deficiency is refused" in empty.content.decode()
    client.post(f"/inbox/deficiencies/{hp.pk}/refuse", {"reason": "I was on leave"})
    hp.refresh_from_db()
    assert (hp.status, hp.reason) == ("refused", "I was on leave")


def test_another_providers_deficiency_is_refused(doctor, facility):
    other = factories.provider("Other", "Olga")
    (note,) = _charts(facility, other, n=1)
    got = signed_in(doctor).get(f"/inbox/deficiencies/{_sig(note).pk}")
    assert got.status_code == 403


def test_a_new_section_joins_the_inbox_and_its_count(
    doctor, facility, attending, monkeypatch
):
    """Where queries (R-QRY) will arrive: a section and its panel, registered."""
    from recordroom.completion import inbox
    from recordroom.web.inbox import views

    monkeypatch.setattr(inbox, "_SECTIONS", list(inbox._SECTIONS))
    monkeypatch.setattr(views, "_PANELS", dict(views._PANELS))
    inbox.register_section(inbox.InboxSection("queries", "Queries", lambda p: 2))
    views.register_panel("queries", lambda request, provider: (
        "web/inbox/_deficiencies.html", {"groups": [], "signable": 0}))  # fmt: skip
    _charts(facility, attending, n=1)
    client = signed_in(doctor)
    page = client.get("/inbox/").content.decode()
    assert 'id="section-deficiencies"' in page and 'id="section-queries"' in page
    assert "5 open items" in page  # 3 deficiencies + 2 queries
    assert 'aria-label="5 open">5</span>' in client.get("/").content.decode()
    with pytest.raises(ValueError, match="registered twice"):
        inbox.register_section(inbox.InboxSection("queries", "Again", lambda p: 0))


def test_r_qry_5_a_query_in_the_inbox_leads_to_its_answer_page(doctor, facility, attending):
    """A compliant query raises a query-pending deficiency for the provider: it is in
    the inbox, and its page sends the provider to the query's own answer page."""
    from recordroom.queries import services as query_services

    (note,) = _charts(facility, attending, n=1)
    query = query_services.raise_query(
        actor=factories.SYSTEM, encounter=note.encounter, provider=attending,
        purpose="ambiguous", question="Based on the clinical indicators below, please "
        "clarify the condition being treated.", indicators=[query_services.IndicatorIn(
            document_id=note.pk, quote="Progress note 0")])  # fmt: skip
    d = Deficiency.objects.get(kind="query", provider=attending)
    client = signed_in(doctor)
    assert "Query pending" in client.get("/inbox/").content.decode()
    page = client.get(f"/inbox/deficiencies/{d.pk}").content.decode()
    assert f'href="/queries/mine/{query.pk}">Answer query {query.number}</a>' in page
    assert client.get(f"/queries/mine/{query.pk}").status_code == 200
