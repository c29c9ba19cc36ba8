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
                       "probability", "match_weight", "status", "resolution",
                       "assignee", "on_worklist_since"]  # fmt: skip
    assert f"wrote {len(rows) - 1} pairs to" in " ".join(written.output.split())
    duplicates = sum(p.ordinal == 1 for p in plans)
    assert abs((len(rows) - 1) - duplicates) <= 1
    assert all(float(r[4]) >= 0.9 for r in rows[1:])
    bad = runner.invoke(app, ["mpi", "pairs", "--min-probability", "1.5"])
    assert bad.exit_code == 2 and "between 0 and 1, got 1.5" in bad.output


def test_pairs_filtered_as_the_worklist_and_assigned(
    facility, other_facility, tmp_path
):
    from tests import factories
    from tests.mpi.worklist_data import build_worklist

    run, made = build_worklist(facility, other_facility)
    factories.user("north1", "him_specialist", facilities=[facility])
    (a, b), (c, d) = made["north"][:2]
    done = invoke("mpi", "assign", f"{a.pk}:{b.pk}", f"{d.pk}:{c.pk}", "--to", "north1")
    assert done.exit_code == 0 and "2 pairs assigned to north1" in done.output
    out = tmp_path / "mine.csv"
    written = invoke("mpi", "pairs", "--assignee", "north1", "-o", str(out))
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["left_id"], r["right_id"]) for r in rows} == {
        (str(a.pk), str(b.pk)), (str(c.pk), str(d.pk))}  # fmt: skip
    assert {(r["status"], r["assignee"]) for r in rows} == {("assigned", "north1")}
    assert "wrote 2 pairs" in written.output
    south = tmp_path / "south.csv"
    invoke("mpi", "pairs", "--facility", "SOUTH", "--min-age", "10", "--sort", "age",
           "--status", "open", "-o", str(south))  # fmt: skip
    with south.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 + 1  # SOUTH i = 5..9 (2 i days), cross i = 4 (3 i days)
    assert rows[0]["on_worklist_since"] < rows[-1]["on_worklist_since"]
    assert "NORTH" not in rows[0]["left_identifiers"] + rows[0]["right_identifiers"]
    bad = runner.invoke(app, ["mpi", "pairs", "--status", "closed"])
    assert bad.exit_code == 2 and "status 'closed' is not one of" in bad.output
    wrong = runner.invoke(app, ["mpi", "assign", "not-a-pair", "--to", "north1"])
    assert wrong.exit_code == 2 and "LEFT_ID:RIGHT_ID" in wrong.output
    back = invoke("mpi", "assign", f"{a.pk}:{b.pk}")
    assert "1 pair taken back (open again)" in back.output
