"""Search inside documents: latency of records.fulltext.find_pages over many pages.

    .venv/bin/python bench/fulltext.py --data-dir /tmp/rr-bench-fts --pages 100000
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_fts \\
        .venv/bin/python bench/fulltext.py --data-dir /tmp/rr-bench-fts-pg --pages 100000

Builds (once per data dir) `--pages` pages of synthetic text, 120 words a page drawn
from a Zipf-like vocabulary with a few clinical words at chosen frequencies, in
documents of 5 pages, 40 documents per patient, the patients split between two
facilities; the rows are written directly (no PDFs: indexing is measured by the
tests, searching here). Then times the first page (20 hits) of each kind of query,
for a user with every facility and one with one facility, across charts and
within one chart. Prints p50/p95/p99 in ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import _common

PAGE_WORDS = 120
PAGES_PER_DOC = 5
DOCS_PER_PATIENT = 40
# word -> share of pages that hold it (at least once)
PLANTED = {
    "patient": 0.9, "pain": 0.3, "cardiology": 0.05, "cardiomyopathy": 0.01,
    "mitral": 0.02, "regurgitation": 0.01, "apixaban": 0.002, "zoster": 0.0002,
}  # fmt: skip
QUERIES = [
    ("one rare word (0.02% of pages)", "zoster"),
    ("one uncommon word (0.2%)", "apixaban"),
    ("two words, AND", "mitral regurgitation"),
    ("a phrase", '"mitral regurgitation"'),
    ("a prefix (cardio*)", "cardio*"),
    ("one common word (30%)", "pain"),
    ("a word on 90% of pages", "patient"),
    ("no page", "nonexistentword"),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--pages", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=50, help="timed runs per kind")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--build-only", action="store_true", help="build, time nothing")
    return p.parse_args()


def _vocabulary(rng: random.Random, size: int = 8000) -> list[str]:
    syllables = ["ba", "ce", "di", "fo", "gu", "ha", "ke", "li", "mo", "nu", "pa",
                 "re", "si", "to", "vu", "xa", "ye", "zo", "tri", "ston"]  # fmt: skip
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build(pages: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    from recordroom.accounts import services as accounts
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )
    from recordroom.records import fulltext
    from recordroom.records.facilities import create_facility
    from recordroom.records.models import (
        Document,
        DocumentType,
        DocumentVersion,
        PageText,
        TextStatus,
        VersionText,
    )  # fmt: skip

    system = Actor(channel="bench")
    north = create_facility(actor=system, code="NORTH", name="North General",
                            timezone="America/Chicago")  # fmt: skip
    south = create_facility(actor=system, code="SOUTH", name="South General",
                            timezone="America/Chicago")  # fmt: skip
    for name, codes, every in (
        ("bench-all", [], True),
        ("bench-north", ["NORTH"], False),
    ):
        accounts.create_user(actor=system, username=name, role="him_specialist",
                             password="correct horse battery 9", facility_codes=codes,
                             all_facilities=every)  # fmt: skip
    doc_type = DocumentType.objects.get(code="18842-5")
    vocab = _vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(vocab))]
    patients = max(1, pages // (PAGES_PER_DOC * DOCS_PER_PATIENT))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0
    t0 = time.monotonic()
    for n in range(patients):
        facility = north if n % 2 == 0 else south
        patient = register_patient(actor=system, data=PatientIn(
            names=[NameIn(family=f"Bench{n:05d}", given="Pat")],
            identifiers=[IdentifierIn(kind="MR", value=f"B{n:07d}", facility=facility)],
        ))  # fmt: skip
        docs, versions, rows = [], [], []
        for d in range(DOCS_PER_PATIENT):
            when = start + timedelta(minutes=rng.randrange(500_000))
            doc = Document(patient=patient, facility=facility, doc_type=doc_type,
                           title=f"Note {d}", service_start=when, source="upload")  # fmt: skip
            version = DocumentVersion(document=doc, number=1, kind="original",
                                      sha256="0" * 64, size=1, media_type="application/pdf",
                                      filename="bench.pdf", created_at=when,
                                      created_by="bench")  # fmt: skip
            docs.append(doc)
            versions.append(version)
            for p in range(1, PAGES_PER_DOC + 1):
                words = rng.choices(vocab, weights, k=PAGE_WORDS)
                for word, share in PLANTED.items():
                    if rng.random() < share:
                        words[rng.randrange(PAGE_WORDS)] = word
                if "regurgitation" in words and rng.random() < 0.5:
                    i = words.index("regurgitation")
                    words[i - 1] = "mitral"
                text = " ".join(words)
                rows.append(PageText(version=version, document=doc, current=True,
                                     page=p, width=850, height=1100, text=text,
                                     boxes=[], terms=text))  # fmt: skip
        with transaction.atomic():
            Document.objects.bulk_create(docs)
            DocumentVersion.objects.bulk_create(versions)
            PageText.objects.bulk_create(rows, batch_size=500)
            VersionText.objects.bulk_create([
                VersionText(version=v, status=TextStatus.INDEXED, pages=PAGES_PER_DOC,
                            words=PAGE_WORDS * PAGES_PER_DOC, dpi=100,
                            indexed_at=v.created_at)
                for v in versions
            ])  # fmt: skip
        made += len(rows)
        if n % 50 == 0:
            print(
                f"  {made:,} pages written ({time.monotonic() - t0:.0f} s)", flush=True
            )
    if connection.vendor == "sqlite":
        t1 = time.monotonic()
        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO {fulltext.FTS_TABLE}({fulltext.FTS_TABLE}) "
                        "VALUES ('rebuild')")  # fmt: skip
        print(f"  FTS5 index built in {time.monotonic() - t1:.0f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"  {made:,} pages in {time.monotonic() - t0:.0f} s")


def main() -> int:
    args = parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    from django.db import connection

    from recordroom.accounts.models import User
    from recordroom.mpi.models import Patient
    from recordroom.records import fulltext
    from recordroom.records.models import PageText

    rng = random.Random(args.seed)
    if not PageText.objects.exists():
        print(f"building {args.pages:,} pages ...")
        build(args.pages, rng)
    if args.build_only:
        return 0
    total = PageText.objects.count()
    print(f"search inside documents over {total:,} pages, {connection.vendor}")
    chart = Patient.objects.order_by("pk").first()
    users = [("all facilities", User.objects.get(username="bench-all")),
             ("one facility", User.objects.get(username="bench-north"))]  # fmt: skip
    rows = []
    for scope, user in users:
        user.facility_ids()  # read once, as a request does
        for label, query in QUERIES:
            for within in (None, chart):
                if within is not None and scope != "all facilities":
                    continue
                runs = []
                for i in range(args.queries + 3):
                    t = time.perf_counter()
                    page = fulltext.find_pages(user=user, query=query, patient=within,
                                               limit=20)  # fmt: skip
                    if i >= 3:
                        runs.append((time.perf_counter() - t) * 1000)
                where = "one chart" if within is not None else scope
                pct = _common.percentiles(runs)
                rows.append((f"{label} [{where}]", len(page.hits), pct))
    width = max(len(r[0]) for r in rows)
    print(f"{'query':<{width}}  hits  p50 ms  p95 ms  p99 ms")
    for label, hits, pct in rows:
        print(f"{label:<{width}}  {hits:>4}  {pct['p50']:>6.1f}  {pct['p95']:>6.1f}"
              f"  {pct['p99']:>6.1f}")  # fmt: skip
    _common.footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
