"""The MPI dashboard's measures on a small index worked as a department would: a
merge, a scan's open pairs (one a cluster of three), a decision, a registration sent
to review, an automatic link; each figure checked by hand, within a user's
facilities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db.models import F, Max
from django.utils import timezone

from recordroom.kernel.actor import Actor
from recordroom.mpi.dashboard import Rate, measures
from recordroom.mpi.decisions import decide_pair
from recordroom.mpi.linkage import registration
from recordroom.mpi.linkage.models import LinkageRun, MatchDecision
from recordroom.mpi.linkage.services import scan_index
from recordroom.mpi.merge import merge_patients, unmerge
from recordroom.mpi.models import Facility, OverlayFlag, Patient
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient
from tests import factories

DESK = Actor(channel="ui", name="desk-a")
ED = Actor(channel="ui", name="ed-reg")
ADT = Actor(channel="hl7", name="hl7:ADT")
SOUTH_API = Actor(channel="api", name="south-api")
NORTH_API = Actor(channel="api", name="north-api")
CLI = Actor(channel="cli", name="cli:tester")


def person(family, given, born, mrn, facility, *, ssn=None, street="1 Main St"):
    idents = [IdentifierIn(kind="MR", value=mrn, facility=facility)]
    if ssn:
        idents.append(IdentifierIn(kind="SS", value=ssn))
    address = {"line1": street, "city": "Duluth", "state": "MN", "postal_code": "55802"}
    return PatientIn(names=[NameIn(family=family, given=given)], birth_date=born,
                     sex="female", identifiers=idents, addresses=[address])  # fmt: skip


def scan():
    return scan_index(actor=CLI, u_pairs=20_000)


@dataclass
class Index:
    north: Facility
    south: Facility
    p: dict[str, Patient]


@pytest.fixture
def index(facility, other_facility) -> Index:
    """NORTH: a merged duplicate (Hadad into Haddad), an open pair (Ito, Itoh), three
    Petrov records, two Meyers decided "not a duplicate". SOUTH: a registration
    sent to review after the scan (Lindqvist), and an automatic link that gave a
    SOUTH record a NORTH MRN (Okonjo)."""
    n, s = facility, other_facility
    born = date(1983, 4, 7)
    reg = {
        "haddad": (DESK, person("Haddad", "Rania", born, "N1", n, ssn="900-11-0001",
                                street="4 Oak St")),
        "hadad": (ED, person("Hadad", "Rania", born, "N2", n, ssn="900-11-0001",
                             street="4 Oak St")),
        "ito": (DESK, person("Ito", "Ken", date(1970, 1, 2), "N3", n,
                             ssn="900-11-0003", street="9 Pine Rd")),
        "itoh": (ED, person("Itoh", "Ken", date(1970, 1, 2), "N4", n,
                            ssn="900-11-0003", street="9 Pine Rd")),
        "petrov1": (ADT, person("Petrov", "Ivana", date(1961, 2, 3), "N5", n,
                                street="3 Dock Ln")),
        "petrov2": (ADT, person("Petrov", "Ivana", date(1961, 2, 3), "N6", n,
                                street="3 Dock Ln")),
        "petrov3": (ED, person("Petrova", "Ivana", date(1961, 2, 3), "N7", n,
                               street="3 Dock Ln")),
        "meyer1": (DESK, person("Meyer", "Lena", date(1950, 1, 1), "N8", n,
                                street="8 Elm Ct")),
        "meyer2": (ADT, person("Meyer", "Lena", date(1950, 1, 2), "N9", n,
                               street="8 Elm Ct")),
        "lindqvist": (ADT, person("Lindqvist", "Maja", date(1972, 11, 30), "S100", s,
                                  ssn="900-22-0010", street="7 Birch Ave")),
        "okonjo": (ADT, person("Okonjo", "Ife", date(2001, 2, 3), "S300", s,
                               ssn="900-22-0012", street="2 Lake Dr")),
    }  # fmt: skip
    p = {k: register_patient(actor=a, data=d) for k, (a, d) in reg.items()}
    merge_patients(actor=DESK, survivor=p["haddad"], retired=p["hadad"],
                   reason="surname typo")  # fmt: skip
    decide_pair(actor=DESK, a=p["meyer1"], b=p["meyer2"], decision="not-duplicate",
                note="mother and daughter")  # fmt: skip
    scan()
    # after the scan: a second SOUTH MRN for Maja goes to review, not a link
    review = registration.register(actor=SOUTH_API, source="api", data=person(
        "Lindqvist", "Maja", date(1972, 11, 30), "S200", s, ssn="900-22-0010",
        street="7 Birch Ave"))  # fmt: skip
    assert review.outcome == "review"
    p["lindqvist2"] = review.patient
    linked = registration.register(actor=NORTH_API, source="api", data=person(
        "Okonjo", "Ife", date(2001, 2, 3), "N300", n, ssn="900-22-0012",
        street="2 Lake Dr"))  # fmt: skip
    assert linked.outcome == "linked" and linked.patient == p["okonjo"]
    return Index(n, s, p)


def test_the_scan_found_what_the_measures_are_checked_against(index):
    run = LinkageRun.objects.get()
    pairs = {frozenset((a, b)) for a, b in run.pairs.filter(probability__gte=0.5)
             .values_list("left_id", "right_id")}  # fmt: skip
    p = index.p
    assert pairs == {frozenset((p[a].pk, p[b].pk)) for a, b in (
        ("ito", "itoh"), ("petrov1", "petrov2"), ("petrov1", "petrov3"),
        ("petrov2", "petrov3"), ("meyer1", "meyer2"))}  # fmt: skip
    assert run.pairs.filter(probability__lt=0.5).count() == 0


def test_duplicate_rate_by_facility(index):
    d = measures(None)
    # NORTH: ten records (Hadad counted with the MRN it gave Haddad, Okonjo with
    # its linked N300); Hadad confirmed; Itoh, Petrov 2 and Petrova suspected (the
    # later record of each open pair); the Meyers decided
    assert d.facilities == [
        Rate("NORTH", "North General Hospital", 10, 1, 3),
        Rate("SOUTH", "South General Hospital", 3, 0, 1),
    ]
    assert d.facilities[0].rate == pytest.approx(0.4)
    assert d.facilities[1].rate == pytest.approx(1 / 3)


def test_duplicate_rate_by_creator(index):
    d = measures(None)
    assert d.creators == [
        Rate("ed-reg", "ui", 3, 1, 2),  # Hadad (merged), Itoh, Petrova
        Rate("hl7:ADT", "hl7", 5, 0, 1),  # Petrov 2
        Rate("south-api", "api", 1, 0, 1),  # the second Maja
        Rate("desk-a", "ui", 3, 0, 0),
    ]
    assert d.total == Rate("all", "", 12, 1, 4)


def test_a_user_sees_the_measures_of_their_facilities_only(index):
    north = factories.user("north-m", "him_specialist", facilities=[index.north])
    d = measures(north)
    assert [r.key for r in d.facilities] == ["NORTH"]
    assert "south-api" not in {r.key for r in d.creators}
    assert d.total == Rate("all", "", 10, 1, 3)
    # Maja's pair is SOUTH's work; the Okonjo link is on a chart NORTH sees
    assert (d.worklist.scan_pairs, d.worklist.registrations) == (4, 0)
    assert d.links.linked == 1 and len(d.links.sample) == 1


def test_worklist_size_and_age(index):
    d = measures(None)
    w = d.worklist
    assert (w.scan_pairs, w.registrations, w.open_pairs) == (4, 1, 5)
    assert (w.under_week, w.week_to_month, w.over_month) == (5, 0, 0)
    assert (w.overlays, w.oldest_overlay) == (0, None)
    # a month and a half later, a new scan finds the same pairs: their age runs
    # from the first scan that found them; the registration from its decision
    first = LinkageRun.objects.get()
    ago = timedelta(days=45)
    LinkageRun.objects.filter(pk=first.pk).update(finished_at=F("finished_at") - ago)
    first.pairs.update(on_worklist_since=F("on_worklist_since") - ago)
    MatchDecision.objects.filter(outcome="review").update(
        decided_at=timezone.now() - timedelta(days=10))  # fmt: skip
    register_patient(actor=ED, data=person(
        "Okafor", "Adaeze", date(1990, 1, 1), "N20", index.north, street="40 Harbor Rd"))  # fmt: skip
    register_patient(actor=ED, data=person(
        "Okafor", "Adaeze", date(1990, 1, 1), "N21", index.north, street="40 Harbor Rd"))  # fmt: skip
    scan()
    w = measures(None).worklist
    # the scan found Maja's pair too: worked there now, aged from her registration
    assert (w.scan_pairs, w.registrations) == (6, 0)
    assert (w.under_week, w.week_to_month, w.over_month) == (1, 1, 4)
    assert w.oldest == first.finished_at - ago


def test_a_merge_closes_pairs_and_an_unmerge_reopens_them(index):
    p = index.p
    merge = merge_patients(actor=DESK, survivor=p["ito"], retired=p["itoh"],
                           reason="same SSN")  # fmt: skip
    north = measures(None).facilities[0]
    assert (north.records, north.confirmed, north.suspected) == (10, 2, 2)
    assert measures(None).worklist.scan_pairs == 3
    unmerge(actor=DESK, merge=merge, reason="two people after all")
    north = measures(None).facilities[0]
    assert (north.records, north.confirmed, north.suspected) == (10, 1, 3)


def test_automatic_links_and_their_review(index):
    links = measures(None, seed=3).links
    assert (links.linked, links.correct, links.wrong, links.unreviewed) == (1, 0, 0, 1)
    decision = links.sample[0]
    assert decision.patient_id == index.p["okonjo"].pk
    assert decision.identifiers_added == ["N300"]
    reviewer = factories.actor(factories.user("rev", "him_specialist",
                                              facilities=[index.north]))  # fmt: skip
    registration.review_link(actor=reviewer, decision=decision, verdict="wrong",
                             note="different mothers' names")  # fmt: skip
    d = measures(None)
    assert (d.links.linked, d.links.wrong, d.links.sample) == (1, 1, [])
    assert d.worklist.overlays == 1
    assert d.worklist.oldest_overlay == OverlayFlag.objects.aggregate(
        m=Max("detected_at"))["m"]  # fmt: skip
    # outside the window
    MatchDecision.objects.filter(pk=decision.pk).update(
        decided_at=timezone.now() - timedelta(days=31))  # fmt: skip
    assert measures(None).links.linked == 0


def test_an_empty_index(db, facility):
    d = measures(None)
    assert d.scan is None and d.total == Rate("all", "", 0, 0, 0)
    assert d.facilities == [Rate("NORTH", "North General Hospital", 0, 0, 0)]
    assert d.facilities[0].rate is None and d.worklist.oldest is None


def test_on_the_demo_generators_people_the_walk_in_desk_leads(db):
    """400 demo people with their planted duplicates: every suspected duplicate is
    the later record of a likely scan pair, and the emergency walk-in desk, which
    the generator gives more than its share of them, has the highest rate."""
    from recordroom.demo.people import plan_people
    from recordroom.demo.rows import write_batch
    from recordroom.demo.setup import ensure_scenery

    plans = plan_people(11, 0, 400, date(2026, 1, 1))
    write_batch(actor=CLI, plans=plans, stored=[], scenery=ensure_scenery())
    run = scan()
    d = measures(None)
    likely = set(run.pairs.filter(probability__gte=0.5).values_list("right", flat=True))
    assert d.total.records == len(plans) and d.total.confirmed == 0
    assert d.total.suspected == len(likely) >= 10
    rates = {r.key: r.rate for r in d.creators}
    assert max(rates, key=lambda k: rates[k] or 0) == "ed-registration"
    assert d.worklist.scan_pairs == run.pairs.count()
