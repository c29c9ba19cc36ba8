"""R-SEC-2: whoever holds only the database cannot rewrite or cut the audit trail
unnoticed (issue 10). Each attack is what a database owner can do with raw SQL: drop
the append-only triggers, change or delete events, recompute every later plain
SHA-256 hash, put the triggers back."""

import hashlib
import json

import pytest
from django.db import connection
from typer.testing import CliRunner

from recordroom.audit.chain import COLUMNS, GENESIS, verify
from recordroom.audit.checkpoints import (
    CheckpointError,
    public_key_pem,
    verify_all,
    write_checkpoint,
)
from recordroom.audit.models import AuditEvent
from recordroom.audit.services import seal_plain_chain
from recordroom.cli.app import app
from recordroom.kernel.actor import Actor
from recordroom.kernel.db import append_only_sql, drop_append_only_sql
from tests.audit.test_chain import _events

runner = CliRunner()
SEP = "\x1f"


def _plain(prev, row):
    return hashlib.sha256((prev + SEP + SEP.join(map(str, row))).encode()).hexdigest()


def _with_triggers_dropped(*statements):
    vendor = connection.vendor
    with connection.cursor() as cur:
        for stmt in drop_append_only_sql("audit_auditevent", vendor):
            cur.execute(stmt)
        for sql, params in statements:
            cur.execute(sql, params)
        for stmt in append_only_sql("audit_auditevent", vendor):
            cur.execute(stmt)


def _rehash_from(first_id, upto=None):
    """The attacker's step: recompute every hash from `first_id` on, plain SHA-256."""
    prev = GENESIS
    if first_id > 1:
        prev = AuditEvent.objects.get(pk=first_id - 1).hash
    updates = []
    rows = AuditEvent.objects.filter(pk__gte=first_id).order_by("id")
    if upto:
        rows = rows.filter(pk__lte=upto)
    for row in rows:
        digest = _plain(prev, [getattr(row, c) for c in COLUMNS])
        updates.append(
            (
                "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
                [prev, digest, row.id],
            )
        )
        prev = digest
    _with_triggers_dropped(*updates)


def _rewrite(event_id, **changes):
    sets = ", ".join(f"{k} = %s" for k in changes)
    _with_triggers_dropped(
        (
            f"UPDATE audit_auditevent SET {sets} WHERE id = %s",  # noqa: S608
            [*changes.values(), event_id],
        )
    )
    _rehash_from(event_id)


def _truncate(keep):
    _with_triggers_dropped(("DELETE FROM audit_auditevent WHERE id > %s", [keep]))


def _verify_cli(*args):
    return runner.invoke(app, ["audit", "verify", *args])


def test_r_sec_2_a_rewritten_and_rehashed_event_is_reported(db):
    """Edit an event's detail and recompute every later hash: `verify` says so."""
    _events(6)
    _rewrite(3, detail=json.dumps({"name": "nobody"}))
    result = _verify_cli()
    assert result.exit_code == 1, result.output
    assert "broken at event 3" in result.output
    assert "altered" in result.output


def test_r_sec_2_truncation_is_reported_against_the_signed_checkpoint(db):
    """Delete the last events (the rest of the chain still links): the signed
    checkpoint says how long the chain was."""
    _events(8)
    cp = write_checkpoint()
    assert (cp.event_id, cp.hash) == (8, AuditEvent.objects.get(pk=8).hash)
    _truncate(5)
    result = _verify_cli()
    assert result.exit_code == 1, result.output
    assert "the chain ends at event 5" in result.output
    assert "signed event 8" in result.output
    assert "removed from the end" in result.output


def test_r_sec_2_truncation_then_new_events_is_reported(db):
    """Cut the chain and let the system write on: the checkpointed id now holds
    another event."""
    _events(8)
    write_checkpoint()
    _truncate(5)
    _events(5)
    report = verify_all()
    assert not report.result.intact
    assert report.result.broken_id == 8
    assert "not the event the checkpoint of" in report.result.reason


def test_r_sec_2_a_chain_rewritten_entirely_in_plain_hashes_is_reported(db):
    """Without the key a forger can only leave plain hashes: refused even with no
    checkpoint at all."""
    _events(4)
    _rewrite(1, username="mallory")
    result = verify()
    assert not result.intact
    assert "not keyed" in result.reason


def test_r_sec_2_the_system_writing_after_a_plain_rewrite_does_not_hide_it(db):
    _events(4)
    _rewrite(1, username="mallory")  # every hash recomputed plain
    _events(2)  # keyed events follow the forged plain ones
    result = verify()
    assert not result.intact and result.broken_id == 5
    assert "not the 'audit.chain_keyed' switch-over" in result.reason


def test_r_sec_2_intact_chain_prints_head_and_last_checkpoint(db):
    _events(3)
    cp = write_checkpoint()
    _events(2)
    result = _verify_cli()
    assert result.exit_code == 0, result.output
    head = AuditEvent.objects.get(pk=5)
    assert f"head: event 5 {head.hash}" in result.output
    assert f"last checkpoint: {cp.time} event 3 {cp.hash}" in result.output
    assert "intact: 5 events (keyed)" in result.output


def test_r_sec_2_auditor_with_the_public_key_alone_sees_truncation_and_rewrite(
    db, tmp_path, settings
):
    _events(6)
    write_checkpoint()
    pem = tmp_path / "audit.pub"
    pem.write_text(public_key_pem())
    shipped = tmp_path / "shipped-checkpoints.jsonl"  # the copy kept off-host
    shipped.write_bytes(settings.AUDIT_CHECKPOINT_FILE.read_bytes())
    settings.AUDIT_CHECKPOINT_FILE.unlink()  # the local file is gone too
    auditor = ("--public-key", str(pem), "--checkpoints", str(shipped))
    ok = _verify_cli(*auditor)
    assert ok.exit_code == 0 and "links and checkpoints only" in ok.output
    assert "last checkpoint: " in ok.output and "event 6" in ok.output
    _rewrite(2, username="mallory")
    rewritten = _verify_cli(*auditor)
    assert rewritten.exit_code == 1
    assert "broken at event 6" in rewritten.output  # the checkpointed event
    _truncate(4)
    cut = _verify_cli(*auditor)
    assert cut.exit_code == 1 and "removed from the end" in cut.output


def test_r_sec_2_a_changed_checkpoint_line_is_refused(db, settings):
    _events(2)
    write_checkpoint()
    path = settings.AUDIT_CHECKPOINT_FILE
    line = json.loads(path.read_text())
    line["event_id"] = 1
    line["hash"] = AuditEvent.objects.get(pk=1).hash
    path.write_text(json.dumps(line) + "\n")
    result = _verify_cli()
    assert result.exit_code == 1
    assert "line 1: the signature does not hold" in result.output


def test_r_sec_2_a_checkpoint_signed_by_another_key_is_refused(db, settings):
    import base64
    import secrets

    _events(2)
    write_checkpoint()
    settings.RECORDROOM_AUDIT_SIGNING_KEY = base64.b64encode(
        secrets.token_bytes(32)
    ).decode()
    with pytest.raises(CheckpointError, match="line 1 is signed by key"):
        verify_all()


def test_r_sec_2_checkpoint_refuses_to_sign_a_rewritten_chain(db, settings):
    _events(5)
    write_checkpoint()
    _events(2)
    _with_triggers_dropped(
        ("UPDATE audit_auditevent SET username = %s WHERE id = %s", ["mallory", 6])
    )
    with pytest.raises(CheckpointError, match="not signed: event 6 was altered"):
        write_checkpoint()
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 1 and "event 6 was altered" in result.output
    assert len(settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()) == 1


def test_checkpoint_cli_appends_a_signed_line(db, settings):
    _events(2)
    first = runner.invoke(app, ["audit", "checkpoint"])
    second = runner.invoke(app, ["audit", "checkpoint"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "checkpoint" in first.output and "event 2" in first.output
    lines = settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()
    assert [json.loads(x)["event_id"] for x in lines] == [2, 2]
    assert json.loads(lines[0])["chain"] == "hmac-sha256"


def test_public_key_cli_prints_pem(db):
    result = runner.invoke(app, ["audit", "public-key"])
    assert result.exit_code == 0
    assert result.output.startswith("-----BEGIN PUBLIC KEY-----")


# --- the switch-over of installations from before the key ---------------------------


def _legacy_chain(n):
    """Events as the previous version wrote them: plain SHA-256."""
    prev = GENESIS
    rows = []
    for i in range(1, n + 1):
        values = [i, 1_700_000_000_000_000 + i, "", "old", "", "", "auth.login",
                  "success", "", "", "", "", "web", "10.0.0.1", "", "{}"]  # fmt: skip
        digest = _plain(prev, values)
        rows.append((*values, prev, digest))
        prev = digest
    cols = ", ".join([*COLUMNS, "prev_hash", "hash"])
    marks = ", ".join(["%s"] * (len(COLUMNS) + 2))
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO audit_auditevent ({cols}) VALUES ({marks})",  # noqa: S608
            rows,
        )


UPGRADE = Actor(channel="cli", name="upgrade")


def test_r_sec_2_an_upgraded_chain_is_sealed_by_one_switch_over_event(db):
    _legacy_chain(4)
    assert "not keyed" in verify().reason
    seal = seal_plain_chain(actor=UPGRADE)
    assert seal is not None and seal.id == 5 and seal.action == "audit.chain_keyed"
    assert json.loads(seal.detail)["plain_events"] == 4
    assert seal_plain_chain(actor=UPGRADE) is None  # once only
    _events(2)
    result = verify()
    assert result.intact, result.reason
    assert (result.count, result.keyed_from) == (7, 5)
    out = _verify_cli().output
    assert "events 1-4 carry plain SHA-256 hashes" in out


def test_r_sec_2_plain_events_before_the_switch_over_cannot_be_rewritten(db):
    _legacy_chain(4)
    seal_plain_chain(actor=UPGRADE)
    _events(1)
    _with_triggers_dropped(
        ("UPDATE audit_auditevent SET username = %s WHERE id = %s", ["mallory", 2])
    )
    _rehash_from(2, upto=4)  # the plain events recomputed: the seal no longer follows
    result = verify()
    assert not result.intact and result.broken_id == 5
    assert "does not follow event 4" in result.reason
    _rehash_from(5)  # and everything after too: nothing keyed is left
    assert "not keyed" in verify().reason


def test_a_new_chain_is_keyed_from_its_first_event(db):
    assert seal_plain_chain(actor=UPGRADE) is None
    _events(2)
    result = verify()
    assert result.intact and result.keyed_from == 1


def test_r_sec_2_the_scheduled_verify_holds_the_chain_to_its_checkpoints(db):
    from recordroom.audit.tasks import verify_chain_task

    _events(4)
    write_checkpoint()
    assert verify_chain_task.call()["intact"]
    _truncate(2)
    outcome = verify_chain_task.call()
    assert not outcome["intact"] and "removed from the end" in outcome["reason"]
    last = AuditEvent.objects.order_by("-id").first()
    assert (last.action, last.outcome) == ("audit.verify", "failure")


def test_r_sec_2_checkpoints_also_go_to_syslog_when_set(db, settings):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(10)
        settings.AUDIT_SYSLOG = f"127.0.0.1:{sink.getsockname()[1]}"
        _events(1)
        cp = write_checkpoint()
        message = sink.recv(4096).decode()
    assert message.startswith("<")  # a syslog priority (authpriv.info)
    assert "recordroom audit checkpoint" in message and cp.sig in message


def test_the_audit_key_counts_as_unused_only_on_a_chain_from_before_it(db):
    """`recordroom init` may create a missing audit key only while nothing used it."""
    from recordroom.audit.keys import audit_key_unused

    assert audit_key_unused()  # empty chain
    _legacy_chain(3)
    assert audit_key_unused()  # an installation from before the key
    seal_plain_chain(actor=UPGRADE)
    assert not audit_key_unused()  # sealed: keyed from event 4 on


def test_a_plain_row_appended_to_a_keyed_chain_does_not_free_the_key(db):
    from recordroom.audit.keys import audit_key_unused

    _events(2)
    assert not audit_key_unused()
    _rehash_from(2)  # the newest event rewritten with a plain hash
    assert not audit_key_unused()  # the first event is still keyed


def test_verify_warns_when_no_checkpoint_guards_the_end_of_the_chain(db, settings):
    _events(2)
    settings.AUDIT_CHECKPOINT_FILE = settings.DATA_DIR / "audit-checkpoints.jsonl"
    out = " ".join(_verify_cli().output.split())
    assert "warning: no checkpoint yet: events cut from the end" in out
    assert "is in the data folder: ship it off-host" in out
    assert "intact: 2 events (keyed)" in out


def test_verify_warns_when_the_schedule_stopped_writing_checkpoints(
    db, settings, monkeypatch
):
    from recordroom.audit import checkpoints

    _events(2)
    settings.AUDIT_CHECKPOINT_MINUTES = 60
    with monkeypatch.context() as m:  # a checkpoint written in November 2023
        m.setattr(checkpoints.time, "time", lambda: 1_700_000_000.0)
        write_checkpoint()
    out = " ".join(_verify_cli().output.split())
    assert "the last checkpoint is" in out and "is `recordroom worker` running?" in out
