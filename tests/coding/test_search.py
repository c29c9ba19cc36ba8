"""Searching and looking up codes as an encoder does, the same on SQLite and
PostgreSQL (R-COD-2 for what a lookup says may be reported)."""

from __future__ import annotations

import time

import pytest

from recordroom.coding import search
from recordroom.kernel.errors import NotFound, ValidationFailed


def codes(text: str, **kw) -> list[str]:
    return [h.display for h in search.search(text, **kw).hits]


@pytest.mark.parametrize("query", ["I21.4", "i214", " I21.4 "])
def test_code_with_or_without_dot(icd10cm, query):
    found = search.search(query)
    assert found.by == "code"
    assert [h.display for h in found.hits] == ["I21.4"]
    assert found.hits[0].title == "Non-ST elevation (NSTEMI) myocardial infarction"


def test_code_start_lists_the_code_then_those_under_it(icd10cm):
    found = codes("S72.001", limit=10)
    assert found[:2] == ["S72.001", "S72.001A"]
    assert len(found) == 10 and all(c.startswith("S72.001") for c in found)
    assert codes("E11", limit=3) == ["E11", "E11.0", "E11.1"]


def test_words_every_one_required_as_word_starts(icd10cm):
    assert codes("diab mell typ 2 hyperglyc")[0] == "E11.65"
    found = codes("frac neck femur", limit=10)
    assert "S72.0" in found and all(c.startswith("S72") for c in found)


def test_title_holding_the_words_ranks_before_inclusion_terms(icd10cm):
    # "non q wave" is an inclusion term of I21.4 only
    assert codes("non q wave myocardial")[0] == "I21.4"
    # a title starting with the word comes first: the category, then its codes
    assert codes("pneumonia", limit=3)[0].startswith("J1")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("chf", "I50"),
        ("heart attack", "I21"),
        ("copd exacerbation", "J44.1"),
        ("afib", "I48"),
        ("uti", "N39.0"),
    ],
)
def test_synonyms_and_abbreviations(icd10cm, query, expected):
    assert expected in codes(query, limit=25)


def test_billable_only_and_limit(icd10cm):
    found = search.search("type 2 diabetes", billable_only=True, limit=5).hits
    assert len(found) == 5 and all(h.billable for h in found)
    assert "E11" not in [h.display for h in found]


def test_bad_searches_refused_by_name(icd10cm):
    with pytest.raises(ValidationFailed, match="give a code or some words"):
        search.search("  ")
    with pytest.raises(ValidationFailed, match="no words"):
        search.search("of the")
    with pytest.raises(ValidationFailed, match="at most 200"):
        search.search("x" * 201)
    with pytest.raises(ValidationFailed, match="cannot search"):
        search.search("sepsis", systems=("cpt",))
    assert codes("zzzqqq") == []


def test_r_cod_2_lookup_says_what_may_be_reported(icd10cm):
    d = search.lookup("E11.9")
    assert d.billable and d.status.startswith("billable")
    assert [a["code"] for a in d.ancestors] == ["E11", "E08-E13", "4"]
    e11 = next(i for i in d.inherited if i["from"] == "E11")
    assert "type 1 diabetes mellitus (E10.-)" in e11["notes"]["excludes1"]
    header = search.lookup("s72001")
    assert not header.billable and "needs a 7th character" in header.status
    assert header.seventh_characters["A"] == "initial encounter for closed fracture"
    assert [c["code"] for c in header.children][:2] == ["S72001A", "S72001B"]
    category = search.lookup("I21")
    assert not category.billable and "report one of them" in category.status


def test_lookup_unknown_code_refused(icd10cm):
    with pytest.raises(NotFound, match="Q99.99 is not a code in ICD-10-CM"):
        search.lookup("Q99.99")
    with pytest.raises(ValidationFailed):
        search.lookup("not a code!")


def test_search_p95_over_the_whole_set(icd10cm):
    """The target (p95 <= 30 ms) is measured by bench/coding_search.py; here a loose
    bound that catches a query that scans the whole set."""
    queries = ["fracture", "injury", "diabetes", "heart failure", "pneumonia", "I21",
               "sepsis due", "frac femur", "chf", "s72"]  # fmt: skip
    for q in queries:
        search.search(q)
    samples = []
    for q in queries * 3:
        start = time.perf_counter()
        search.search(q)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    assert samples[int(len(samples) * 0.95) - 1] < 250
