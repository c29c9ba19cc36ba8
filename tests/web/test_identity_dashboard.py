"""The MPI dashboard page and the duplicate worklist's clusters and registrations,
through the web app: the figures of a small index worked by hand, the day's sample
of automatic links judged correct or wrong, audited, within the user's facilities."""

from __future__ import annotations

import re

from recordroom.audit.models import AuditEvent
from recordroom.mpi.linkage.models import MatchDecision
from recordroom.mpi.models import OverlayFlag
from tests import factories
from tests.mpi.test_dashboard import index  # noqa: F401 (the fixture)
from tests.web.conftest import signed_in


def _text(html: str) -> str:
    """The page's text, one space between cells."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client(username, *facilities):
    return signed_in(factories.user(username, "him_specialist",
                                    facilities=list(facilities)))  # fmt: skip


def _link():
    return MatchDecision.objects.get(outcome="linked")


def test_the_dashboard_shows_the_measures_and_the_days_sample(index):  # noqa: F811
    client = _client("both1", index.north, index.south)
    page = client.get("/identity/dashboard")
    assert page.status_code == 200
    text = _text(page.content.decode())
    assert "NORTH North General Hospital 10 1 3 40.0%" in text
    assert "SOUTH South General Hospital 3 0 1 33.3%" in text
    assert "All your facilities 13 1 4" not in text  # a record is counted once
    assert "All your facilities 12 1 4 41.7%" in text
    assert "ed-reg ui 3 1 2 100.0%" in text and "desk-a ui 3 0 0 0.0%" in text
    assert "Duplicate pairs 4 from the scan, 1 from registrations 5 5 0 0" in text
    assert "linked 1 registration to" in text
    # the sampled link: the chart it joined, what the registration brought, evidence
    assert "OKONJO, Ife" in text
    assert "Identifiers it brought Medical record number N300 NORTH" in text
    assert "api at NORTH By north-api" in text
    assert "Date of birth" in text and "Correct" in text  # the evidence in words
    # listing the sampled chart is a read of it (R-SEC-2)
    okonjo = str(index.p["okonjo"].pk)
    read = AuditEvent.objects.filter(action="chart.open", patient_id=okonjo,
                                     detail__contains="dashboard")  # fmt: skip
    assert read.count() == 1


def test_a_wrong_link_needs_a_note_and_goes_to_the_overlay_worklist(index):  # noqa: F811
    client = _client("both2", index.north, index.south)
    link = _link()
    refused = client.post("/identity/dashboard",
                          {"decision": str(link.pk), "verdict": "wrong"}, follow=True)  # fmt: skip
    assert "say what is wrong with the link" in refused.content.decode()
    link.refresh_from_db()
    assert link.review == ""
    done = client.post("/identity/dashboard", {"decision": str(link.pk),
                       "verdict": "wrong", "note": "another Ife Okonjo, new SSN card"})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/identity/dashboard"
    link.refresh_from_db()
    assert (link.review, link.reviewed_by) == ("wrong", "both2")
    assert OverlayFlag.objects.get(patient=index.p["okonjo"]).kind == "wrong-auto-link"
    assert AuditEvent.objects.filter(action="mpi.link_review").count() == 1
    text = _text(client.get("/identity/dashboard").content.decode())
    assert "0 reviewed correct, 1 wrong, 0 not reviewed" in text
    assert "No automatic link waiting for review" in text
    assert "Overlay signs 1" in text


def test_a_correct_link_is_recorded(index):  # noqa: F811
    client = _client("north1", index.north)
    resp = client.post("/identity/dashboard",
                       {"decision": str(_link().pk), "verdict": "correct"}, follow=True)  # fmt: skip
    assert "Recorded: Correct link." in resp.content.decode()
    assert _link().review == "correct" and not OverlayFlag.objects.exists()


def test_the_dashboard_shows_your_facilities_only(index):  # noqa: F811
    text = _text(_client("north2", index.north).get("/identity/dashboard")
                 .content.decode())  # fmt: skip
    assert "NORTH North General Hospital 10 1 3 40.0%" in text
    assert "SOUTH General" not in text and "south-api" not in text
    assert "Duplicate pairs 4 from the scan, 0 from registrations" in text
    # SOUTH staff see the link onto the Okonjo chart (it holds their S300), but not
    # the NORTH MRN it brought (R-MIN-1)
    south = _client("south1", index.south)
    text = _text(south.get("/identity/dashboard").content.decode())
    assert "NORTH" not in text and "N300" not in text
    assert "SOUTH South General Hospital 3 0 1 33.3%" in text
    assert (
        "OKONJO, Ife" in text and "Identifiers it brought 1 at another facility" in text
    )
    resp = south.post("/identity/dashboard", {"decision": str(_link().pk),
                      "verdict": "correct"}, follow=True)  # fmt: skip
    assert _link().review == "correct" and resp.status_code == 200


def test_a_chart_outside_your_facilities_cannot_be_reviewed(index, facility):  # noqa: F811
    elsewhere = factories.facility("EAST")
    resp = _client("east1", elsewhere).post(
        "/identity/dashboard", {"decision": str(_link().pk), "verdict": "correct"},
        follow=True)  # fmt: skip
    assert "has no record at your facilities" in resp.content.decode()
    assert _link().review == ""


def test_the_worklist_groups_a_cluster_and_lists_registrations(index):  # noqa: F811
    client = _client("both3", index.north, index.south)
    html = client.get("/identity/duplicates").content.decode()
    text = _text(html)
    # each of the cluster's three pairs links to the whole cluster (the worklist
    # pages pair by pair; the link narrows it to the cluster)
    assert html.count("cluster of 3 records") == 3
    assert html.count("cluster of") == 3  # Ito and Itoh are a plain pair
    link = re.search(r'href="(/identity/duplicates\?cluster=\d+&amp;status=all)"', html)
    assert link is not None
    cluster = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert cluster.count("cluster of 3 records") == 3  # its three pairs, nothing else
    assert "PETROVA, Ivana" in _text(cluster)
    assert "ITOH, Ken" not in _text(cluster)
    assert "ITOH, Ken" in text and "MEYER" not in text  # decided: not a duplicate
    registrations = text.split("Sent to review at registration")[1]
    assert "api SOUTH south-api LINDQVIST, Maja" in registrations
    maja = index.p["lindqvist2"]
    assert f"right={maja.pk}" in html
    listed = AuditEvent.objects.filter(action="chart.open", patient_id=str(maja.pk),
                                       detail__contains="duplicates")  # fmt: skip
    assert listed.count() == 2  # once a page shown: the worklist, then the cluster
    # a registration's pair opens with the score search before create gave it
    review = client.get(
        f"/identity/merge?left={index.p['lindqvist'].pk}&right={maja.pk}"
    )
    assert "Scored <strong>" in review.content.decode()


def test_the_worklist_shows_your_facilities_only(index):  # noqa: F811
    text = _text(_client("north3", index.north).get("/identity/duplicates")
                 .content.decode())  # fmt: skip
    assert "PETROV" in text and "LINDQVIST" not in text
    assert "No registration waiting for review" in text
