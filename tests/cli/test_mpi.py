"""`recordroom mpi scan` and `recordroom mpi pairs`, in-process on the test database."""

from __future__ import annotations

import csv
from datetime import date

from typer.testing import CliRunner

from recordroom.cli.app import app
from recordroom.demo.people import plan_people
from recordroom.demo.rows import write_batch
from recordroom.demo.setup import ensure_scenery
from recordroom.kernel.actor import Actor
from recordroom.mpi.linkage.models import LinkageRun

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_pairs_before_any_scan_says_what_to_do(db):
    result = runner.invoke(app, ["mpi", "pairs"])
    assert result.exit_code == 2
    assert (
        "no finished duplicate scan; run `recordroom mpi scan` first" in result.output
    )


def test_scan_then_pairs_as_csv(db, tmp_path):
    plans = plan_people(5, 0, 200, date(2026, 1, 1))
    write_batch(actor=Actor(channel="test"), plans=plans, stored=[],
                scenery=ensure_scenery())  # fmt: skip
    scanned = invoke("mpi", "scan")
    assert scanned.exit_code == 0, scanned.output
    run = LinkageRun.objects.get()
    assert f"scan {run.pk}: {len(plans)} records" in scanned.output
    out = tmp_path / "pairs.csv"
    written = invoke("mpi", "pairs", "--min-probability", "0.9", "--output", str(out))
    assert written.exit_code == 0, written.output
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["left_id", "right_id", "left_identifiers", "right_identifiers",
                       "probability", "match_weight"]  # fmt: skip
    assert f"wrote {len(rows) - 1} pairs to" in " ".join(written.output.split())
    duplicates = sum(p.ordinal == 1 for p in plans)
    assert abs((len(rows) - 1) - duplicates) <= 1
    assert all(float(r[4]) >= 0.9 for r in rows[1:])
    bad = runner.invoke(app, ["mpi", "pairs", "--min-probability", "1.5"])
    assert bad.exit_code == 2 and "between 0 and 1, got 1.5" in bad.output
