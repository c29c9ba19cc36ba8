"""Search inside documents (records.fulltext) on real PDFs, one of them a scanned page
OCRed by Tesseract: the same pages found on SQLite and PostgreSQL (each run checks the
database it runs on against one reference matcher in Python, and against the pages
named here), scope and labels as document reads, audit, pages without repeats."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from django.db import connection
from PIL import Image
from reportlab.pdfgen import canvas

from recordroom.accounts.labels import break_the_glass
from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.records import fulltext
from recordroom.records import services as records
from recordroom.records.models import (
    DocumentType,
    DocumentVersion,
    PageText,
    TextStatus,
    VersionText,
)
from tests import factories
from tests.labelled import labelled_chart

# --- the corpus -------------------------------------------------------------------------


def pdf(pages: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    for lines in pages:
        c.setFont("Helvetica", 14)
        y = 720
        for line in lines:
            c.drawString(72, y, line)
            y -= 24
        c.showPage()
    c.save()
    return buf.getvalue()


SCANNED_LINES = [
    "Outside records received by fax",
    "Echocardiogram shows mild mitral regurgitation",
    "Follow up with cardiology in six weeks",
]


@cache
def scanned_pdf() -> bytes:
    """A page printed, rasterised at 200 dpi as a scanner would (no text left), then
    made searchable by OCRmyPDF with Tesseract: the OCR text layer is what is found."""
    import ocrmypdf
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf([SCANNED_LINES]))
    image = doc[0].render(scale=200 / 72).to_pil().convert("L")
    doc.close()
    scan = io.BytesIO()
    image.save(scan, format="PDF", resolution=200.0)
    out = io.BytesIO()
    ocrmypdf.ocr(io.BytesIO(scan.getvalue()), out, language=["eng"], jobs=1,
                 output_type="pdf", optimize=0, progress_bar=False)  # fmt: skip
    return out.getvalue()


# (title, days ago, pages of lines)
CORPUS = [
    ("Cardiology consult", 30, [
        ["Cardiology consultation", "Mitral valve prolapse with regurgitation"],
        ["Plan: echocardiogram yearly", "Patient José Núñez understands the plan"],
    ]),
    ("Discharge summary", 20, [
        ["Discharge summary", "Diagnosis: community acquired pneumonia"],
        ["Discharged home on amoxicillin 500 mg", "Follow up with cardiology"],
        ["Mitral regurgitation noted incidentally"],
    ]),
    ("Operative note", 10, [
        ["Operative report: laparoscopic cholecystectomy", "No complications"],
    ]),
    ("Nursing note", 5, [
        ["Regurgitation of feeds overnight", "Mitral exam deferred"],
        ["Pain 3/10 after cholecystectomy; ambulating"],
    ]),
]  # fmt: skip


def add(
    patient, facility, title, days, data, *, sensitivity=None, media="application/pdf"
):
    return records.file_document(
        actor=factories.SYSTEM, patient=patient,
        doc_type=DocumentType.objects.get(code="18842-5"), data=data,
        filename="note.pdf" if media == "application/pdf" else "note.txt",
        media_type=media, facility=facility, title=title, sensitivity=sensitivity,
        service_start=datetime(2026, 11, 30, 12, tzinfo=UTC) - timedelta(days=days),
    )  # fmt: skip


def index_all(*docs) -> None:
    for doc in docs:
        for version in doc.versions.all():
            fulltext.index_version(version)


@pytest.fixture
def corpus(db, facility, other_facility):
    north = factories.patient(facility=facility, family="Núñez", given="José")
    south = factories.patient(facility=other_facility, family="Olsen", given="Kari")
    docs = {}
    for i, (title, days, pages) in enumerate(CORPUS):
        owner, where = (north, facility) if i < 3 else (south, other_facility)
        docs[title] = add(owner, where, title, days, pdf(pages))
    docs["Outside records"] = add(north, facility, "Outside records", 25, scanned_pdf())
    docs["Phone message"] = add(
        north, facility, "Phone message", 2,
        "Called about the echo.\nZoë's mother: no regurgitation seen at home".encode(),
        media="text/plain",
    )  # fmt: skip
    index_all(*docs.values())
    return north, south, docs


def reference(query: str, pages: list[PageText]) -> set[tuple[str, int]]:
    """The query answered in Python over each page's terms: every term's tokens
    consecutive, the last only a prefix for a prefix term."""
    parsed = fulltext.parse_query(query)
    out = set()
    for row in pages:
        toks = row.terms.split()
        ok = True
        for term in parsed.terms:
            n = len(term.tokens)
            ok = ok and any(
                list(term.tokens[:-1]) == toks[i : i + n - 1]
                and (toks[i + n - 1].startswith(term.tokens[-1]) if term.prefix
                     else toks[i + n - 1] == term.tokens[-1])
                for i in range(len(toks) - n + 1)
            )  # fmt: skip
        if ok:
            out.add((row.document.title, row.page))
    return out


def detail(event) -> dict:
    return json.loads(event.detail)


def found(query: str, user=None, patient=None) -> list[tuple[str, int]]:
    hits: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = fulltext.find_pages(user=user, query=query, patient=patient, limit=3,
                                   cursor=cursor)  # fmt: skip
        hits += [(h.document.title, h.page) for h in page.hits]
        if page.next is None:
            return hits
        cursor = page.next


# --- normalising and the query language ------------------------------------------------


def test_tokens_fold_case_accents_and_punctuation():
    assert fulltext.tokens("Zoë's ÅNGSTRÖM, O'Brien-Núñez: 12.5mg ﬁbrosis") == [
        "zoes", "angstrom", "obrien", "nunez", "12", "5mg", "fibrosis",
    ]  # fmt: skip
    assert fulltext.tokens("Straße") == ["strasse"]
    assert fulltext.tokens("—") == []


def test_query_language_words_phrases_prefixes():
    q = fulltext.parse_query('mitral "follow up with" cardio* O\'Brien-Núñez')
    assert q.terms == (
        fulltext.Term(("mitral",)),
        fulltext.Term(("follow", "up", "with")),
        fulltext.Term(("cardio",), prefix=True),
        fulltext.Term(("obrien", "nunez")),
    )
    assert fulltext.fts5_query(q) == (
        '"mitral" AND "follow up with" AND "cardio"* AND "obrien nunez"'
    )
    assert fulltext.tsquery(q) == (
        "'mitral' & 'follow' & 'up' & 'with' & 'cardio':* & 'obrien' & 'nunez'"
    )
    # An unclosed quote runs to the end; repeated terms count once.
    assert fulltext.parse_query('"mild mitral').terms == (
        fulltext.Term(("mild", "mitral")),
    )
    assert len(fulltext.parse_query("echo echo ECHO").terms) == 1
    for bad, says in [
        ("", "type a word"),
        ("*** ?", "type a word"),
        ("c*", "at least two letters"),
        ("x" * 501, "at most 500"),
    ]:
        with pytest.raises(ValidationFailed, match=says):
            fulltext.parse_query(bad)  # fmt: skip


# --- the same pages on both databases ---------------------------------------------------

QUERIES = {
    "regurgitation": [
        ("Phone message", 1), ("Nursing note", 1), ("Discharge summary", 3),
        ("Outside records", 1), ("Cardiology consult", 1),
    ],
    "mitral regurgitation": [
        ("Nursing note", 1), ("Discharge summary", 3), ("Outside records", 1),
        ("Cardiology consult", 1),
    ],
    '"mitral regurgitation"': [("Discharge summary", 3), ("Outside records", 1)],
    '"follow up with cardiology"': [
        ("Discharge summary", 2), ("Outside records", 1),
    ],
    "cardio*": [
        ("Discharge summary", 2), ("Outside records", 1), ("Cardiology consult", 1),
    ],
    "CHOLECYST*": [("Nursing note", 2), ("Operative note", 1)],
    "nunez": [("Cardiology consult", 2)],
    "JOSÉ NÚÑEZ": [("Cardiology consult", 2)],
    '"jose nun*"': [("Cardiology consult", 2)],
    "zoe*": [("Phone message", 1)],
    "zoës": [("Phone message", 1)],  # "Zoë's": the apostrophe goes, as in names
    "zoe": [],
    "500mg": [],
    "500 mg": [("Discharge summary", 2)],
    '"500 mg"': [("Discharge summary", 2)],
    "3/10": [("Nursing note", 2)],
    "echocardiogram": [("Outside records", 1), ("Cardiology consult", 2)],
    "echo*": [("Phone message", 1), ("Outside records", 1), ("Cardiology consult", 2)],
    "pneumonia appendicitis": [],
    '"regurgitation mitral"': [],
}  # fmt: skip


@pytest.fixture(params=["few pages", "many pages"])
def plan(request, monkeypatch):
    """Both ways find_pages reads: each page's document checked (few pages match),
    or the documents walked newest first in batches (many match; batches of 1 and 4
    here, so that a page of results spans several)."""
    if request.param == "many pages":
        monkeypatch.setattr(fulltext, "FEW", 0)
        monkeypatch.setattr(fulltext, "BATCH", 1)
    return request.param


def test_same_pages_on_sqlite_and_postgresql(corpus, plan):
    """Every query finds, in this order, the pages named here and exactly those the
    reference matcher finds: on whichever database the suite runs (CI runs both)."""
    pages = list(PageText.objects.filter(current=True).select_related("document"))
    assert connection.vendor in ("sqlite", "postgresql")
    for query, expected in QUERIES.items():
        got = found(query)
        assert got == expected, query
        assert set(got) == reference(query, pages), query


def test_ocr_text_layer_is_indexed_with_word_boxes_on_the_page_image(corpus):
    _, _, docs = corpus
    scan = PageText.objects.get(document=docs["Outside records"])
    assert scan.width == 828 and scan.height == 1170  # A4 at 100 dpi
    text = scan.text.split("\n")
    assert text == SCANNED_LINES
    hits = fulltext.page_hits(docs["Outside records"], 1, '"mitral regurgitation"')
    assert [w for w, hit in hits.words if hit] == ["mitral", "regurgitation"]
    # The words sit on the second line: 720 - 24 points down from the top of 842.
    (x0, y0, x1, y1), (x2, _, x3, _) = hits.boxes
    top = (842 - 696) * 100 / 72
    assert abs(y1 - top) < 6 and y1 - y0 > 7
    assert x0 < x1 < x2 < x3 < 828
    status = VersionText.objects.get(version__document=docs["Outside records"])
    assert (status.status, status.pages, status.words, status.dpi) == (
        TextStatus.INDEXED,
        1,
        17,
        100,
    )


def test_snippet_marks_the_hits(corpus):
    hits = fulltext.find_pages(user=None, query="amoxicillin", limit=5).hits
    assert len(hits) == 1
    hit = hits[0]
    assert (
        hit.snippet == "Discharged home on amoxicillin 500 mg Follow up with cardiology"
    )
    assert [hit.snippet[a:b] for a, b in hit.marks] == ["amoxicillin"]


# --- who sees what ----------------------------------------------------------------------


def test_r_sec_1_a_user_finds_only_pages_at_their_facilities(corpus, facility, plan):
    north, south, _ = corpus
    clerk = factories.user("north-clerk", "him_specialist", facilities=[facility])
    assert found("regurgitation", user=clerk) == [
        ("Phone message", 1), ("Discharge summary", 3), ("Outside records", 1),
        ("Cardiology consult", 1),
    ]  # fmt: skip
    assert found("cholecystectomy", user=clerk) == [("Operative note", 1)]
    # Within one chart; another facility's chart yields nothing, not even a count.
    assert found("regurgitation", user=clerk, patient=south) == []
    assert found("echo*", user=clerk, patient=north) == [
        ("Phone message", 1), ("Outside records", 1), ("Cardiology consult", 2),
    ]  # fmt: skip


def test_r_p2_1_r_pn_2_labels_hide_pages_as_they_hide_documents(db, facility, plan):
    chart = labelled_chart(facility)
    index_all(chart.part2, chart.therapy, chart.hiv, chart.plain, chart.vip_plain)
    words = {"methadone": "Opioid treatment program visit",
             "father": "Session notes", "viral": "Infectious disease summary",
             "appendectomy": "Discharge summary", "knee": "VIP discharge summary"}  # fmt: skip

    def seen(user) -> set[str]:
        return {t for w, t in words.items() for t, _ in found(w, user=user)}

    for user in (chart.him, chart.doctor, chart.therapist, chart.privacy):
        readable = records.visible_documents(user)
        from recordroom.records.access import readable_documents

        titles = set(readable_documents(readable, user).values_list("title", flat=True))
        assert seen(user) == titles, user.username
    assert seen(chart.him) == {"Discharge summary"}
    assert seen(chart.therapist) >= {"Session notes"}  # its author
    # Break-the-glass on the VIP's chart opens its pages to that user, as its documents.
    assert "VIP discharge summary" not in seen(chart.doctor)
    break_the_glass(actor=factories.actor(chart.doctor), patient_id=chart.vip.pk,
                    labels=["VIP"], reason="Fell in the lobby, treating now")  # fmt: skip
    chart.doctor.__dict__.pop("_label_grants", None)
    assert "VIP discharge summary" in seen(chart.doctor)


def test_r_sec_2_each_search_is_audited_naming_the_patients(corpus, facility):
    north, south, docs = corpus
    him = factories.user("searcher", "him_specialist", facilities=[facility])
    actor = factories.actor(him)
    before = AuditEvent.objects.count()
    page = fulltext.search_documents(actor=actor, query="echo*", limit=2)
    assert len(page.hits) == 2 and page.next
    events = list(AuditEvent.objects.filter(id__gt=0).order_by("-id")[:1])
    assert AuditEvent.objects.count() == before + 1
    event = events[0]
    assert (event.action, event.patient_id, event.username) == (
        "document.search",
        str(north.pk),
        "searcher",
    )
    assert detail(event)["query"] == "echo*"
    assert detail(event)["within"] == "charts in scope"
    assert detail(event)["documents"] == sorted(
        [str(docs["Phone message"].pk), str(docs["Outside records"].pk)]
    )
    assert detail(event)["pages"] == [
        f"{docs['Phone message'].pk}/1/1",
        f"{docs['Outside records'].pk}/1/1",
    ]
    # Two patients' pages returned by the system user: one event for each.
    fulltext.search_documents(actor=factories.SYSTEM, query="regurgitation")
    rows = list(AuditEvent.objects.order_by("-id")[:2])
    assert {r.patient_id for r in rows} == {str(north.pk), str(south.pk)}
    assert all(r.action == "document.search" for r in rows)
    # Nothing found is still a search: one event, no patient.
    fulltext.search_documents(actor=actor, query="zebra", patient=north)
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.patient_id, detail(last)["results"]) == (
        "document.search",
        str(north.pk),
        0,
    )


# --- pages of results -------------------------------------------------------------------


def test_keyset_pages_neither_repeat_nor_skip(db, facility, plan):
    patient = factories.patient(facility=facility)
    same_day = 3  # documents sharing one date of service: ties broken by id
    docs = [
        add(patient, facility, f"Note {i}", i // same_day,
            pdf([[f"progress note {i} page {p}", "stable"] for p in range(1, 4)]))
        for i in range(12)
    ]  # fmt: skip
    index_all(*docs)
    for size in (1, 4, 7, 100):
        got = []
        cursor = None
        while True:
            page = fulltext.find_pages(user=None, query="stable", limit=size,
                                       cursor=cursor)  # fmt: skip
            got += [(h.document.title, h.page) for h in page.hits]
            if not page.next:
                break
            cursor = page.next
        assert len(got) == 36 and len(set(got)) == 36, size
        assert got[:4] == [("Note 2", 1), ("Note 2", 2), ("Note 2", 3),
                           got[3]]  # fmt: skip
    with pytest.raises(ValidationFailed, match="cursor"):
        fulltext.find_pages(user=None, query="stable", cursor="nonsense")
    with pytest.raises(ValidationFailed, match="limit"):
        fulltext.find_pages(user=None, query="stable", limit=0)


# --- versions and indexing --------------------------------------------------------------


def test_a_new_version_replaces_the_old_text_in_search(db, facility):
    patient = factories.patient(facility=facility)
    doc = add(patient, facility, "Letter", 1, pdf([["Allergy to penicillin"]]))
    index_all(doc)
    assert found("penicillin") == [("Letter", 1)]
    v2 = records.add_version(actor=factories.SYSTEM, document=doc, kind="correction",
                             data=pdf([["Allergy to sulfa drugs"]]), filename="v2.pdf",
                             reason="wrong drug")  # fmt: skip
    assert fulltext.index_version(v2) == 1
    assert found("penicillin") == []
    assert found("sulfa") == [("Letter", 1)]
    assert fulltext.find_pages(user=None, query="sulfa").hits[0].version == 2
    # Indexing again (a reindex) changes nothing.
    assert fulltext.reindex(missing_only=False, document=doc).pages == 2
    assert found("sulfa") == [("Letter", 1)] and found("penicillin") == []
    assert PageText.objects.filter(document=doc).count() == 2


def test_filing_queues_indexing_for_the_worker_after_commit(
    db, facility, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from recordroom.records.tasks import index_text

    patient = factories.patient(facility=facility)
    with django_capture_on_commit_callbacks(execute=True):
        doc = add(patient, facility, "Fax", 1, pdf([["Thyroid ultrasound normal"]]))
    queued = DBTaskResult.objects.get(task_path="recordroom.records.tasks.index_text")
    version = doc.versions.get()
    assert queued.args_kwargs["args"] == [str(version.pk)]
    assert found("thyroid") == []  # not until the worker runs it
    assert index_text.call(str(version.pk)) == 1
    assert found("thyroid") == [("Fax", 1)]


def test_files_without_text_are_recorded_not_lost(db, facility):
    patient = factories.patient(facility=facility)
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(png, format="PNG")
    photo = add(patient, facility, "Photo", 1, png.getvalue(), media="image/png")
    blank = add(patient, facility, "Blank", 1, pdf([[]]))
    index_all(photo, blank)
    assert VersionText.objects.get(version__document=photo).status == "unsupported"
    assert VersionText.objects.get(version__document=blank).status == "no-text"
    done = fulltext.reindex()  # everything already indexed: nothing to do
    assert (done.versions, done.pages) == (0, 0)
    VersionText.objects.filter(version__document=blank).delete()
    assert fulltext.reindex().versions == 1


def test_page_image_with_hits_drawn_is_a_document_view(corpus):
    _, _, docs = corpus
    doc = docs["Outside records"]
    hits = fulltext.page_hits(doc, 1, "regurgitation")
    png = fulltext.render_page(actor=factories.SYSTEM, document=doc, page=1, hits=hits)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (828, 1170)
    ((x0, y0, x1, y1),) = hits.boxes
    # The box's outline is drawn in orange; outside the box the page is white.
    assert image.getpixel((x0 - 1, (y0 + y1) // 2)) == fulltext.OUTLINE[:3]
    assert min(image.getpixel((x0 - 20, (y0 + y1) // 2))) > 240
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_type, detail(event)["version"]) == (
        "document.view",
        "records.documentversion",
        1,
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", event.patient_id)
    assert DocumentVersion.objects.get(pk=event.object_id).document_id == doc.pk


def test_reindex_text_command_indexes_what_was_never_indexed(db, facility):
    from django.core.management import call_command

    patient = factories.patient(facility=facility)
    doc = add(patient, facility, "Bulk loaded", 1, pdf([["Hemoglobin A1c 6.1"], ["x"]]))
    out = io.StringIO()
    call_command("reindex_text", stdout=out)
    assert out.getvalue().splitlines()[-1] == "indexed 1 versions: 2 pages with text"
    assert found("a1c") == [("Bulk loaded", 1)]
    out = io.StringIO()
    call_command("reindex_text", "--all", "--document", str(doc.pk), stdout=out)
    assert out.getvalue().splitlines()[-1] == "indexed 1 versions: 2 pages with text"
    assert found("a1c") == [("Bulk loaded", 1)]
