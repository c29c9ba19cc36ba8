"""Connection limits at the running listener, over real sockets: an idle connection and
a message that never finishes are closed after their timeouts
(RECORDROOM_HL7_IDLE_TIMEOUT_SECONDS, RECORDROOM_HL7_FRAME_TIMEOUT_SECONDS), a
connection past RECORDROOM_HL7_MAX_CONNECTIONS is closed at once, and slow senders
holding large half-sent messages cost the listener their size in memory, no more."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest
from hl7.client import MLLPClient

from recordroom.interop.hl7v2.listen import routing_key

from .test_mllp import BIN, SAMPLES, Listening, _env, _msa, _run, _sample, listening

FACILITY = "GHHSFacility"  # the facility of the shared samples


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    if not (SAMPLES / "ADT-A04-01.hl7").exists():
        pytest.skip(f"HL7 v2 sample messages not found in {SAMPLES}")
    folder = tmp_path_factory.mktemp("mllp-limits") / "data"
    done = _run([BIN / "recordroom", "init"], folder)
    assert done.returncode == 0, done.stderr
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        f"F.objects.create(code={FACILITY!r}, name='G', mrn_system='urn:test:G')"
    )
    made = _run([BIN / "python", "-c", make], folder)
    assert made.returncode == 0, made.stderr
    return folder


def _connect(hl7: Listening) -> socket.socket:
    return socket.create_connection(("127.0.0.1", hl7.port), timeout=20)


def _rss_mb(hl7: Listening) -> float:
    status = Path(f"/proc/{hl7.proc.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _listening(data: Path, **settings: str) -> contextlib.AbstractContextManager:
    env = _env(data)
    env.update({f"RECORDROOM_HL7_{k.upper()}": v for k, v in settings.items()})
    return listening(env)


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the listener closed `sock` (reading nothing), or fail."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        got = sock.recv(1024)
    except ConnectionResetError:
        got = b""
    except TimeoutError:
        pytest.fail(f"the connection was still open after {seconds} s")
    assert got == b"", got
    return time.monotonic() - start


def _stored(data: Path, control: str) -> str:
    check = (
        "import django; django.setup();"
        "from recordroom.interop.models import InterfaceMessage as M;"
        f"print(list(M.objects.filter(control_id={control!r})"
        ".values_list('status', flat=True)))"
    )
    out = _run([BIN / "python", "-c", check], data)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_idle_and_unfinished_connections_are_closed_after_their_timeouts(data):
    with _listening(data, idle_timeout_seconds="2", frame_timeout_seconds="2") as hl7:
        # an idle connection: closed after about 2 s, not before
        idle = _connect(hl7)
        waited = _closed_within(idle, 30)
        assert waited >= 1.5, waited
        # a message begun and never finished: dropped and the connection closed
        begun = _connect(hl7)
        part = _sample("ADT-A04-01.hl7", "HALF1")
        begun.sendall(b"\x0b" + part[: len(part) // 2])
        _closed_within(begun, 30)
        # a sender that finishes a message (slowly) and waits for its ACK is served,
        # and its connection stays open for the next one within the idle timeout
        with MLLPClient("127.0.0.1", hl7.port) as client:
            whole = _sample("ADT-A04-01.hl7", "WHOLE1")
            client.socket.sendall(b"\x0b" + whole[:100])
            time.sleep(0.5)
            client.socket.sendall(whole[100:] + b"\x1c\r")
            ack = _msa(client.socket.recv(65536))
            assert ack[1:3] == ["AA", "WHOLE1"], ack
            time.sleep(0.5)
            again = _msa(client.send_message(_sample("ADT-A04-01.hl7", "WHOLE2")))
            assert again[1:3] == ["AA", "WHOLE2"], again
    assert _stored(data, "HALF1") == "[]"
    assert _stored(data, "WHOLE1") == "['processed']"
    assert "closed after 2 s without a message" in hl7.output, hl7.output
    assert "a message begun 2 s ago is not whole" in hl7.output, hl7.output
    assert "dropped unapplied and unanswered" in hl7.output


def test_a_connection_past_the_cap_is_closed_at_once_and_the_others_served(data):
    with _listening(data, max_connections="3") as hl7:
        time.sleep(0.5)  # the start-up probe's connection has ended
        first = [_connect(hl7) for _ in range(3)]
        time.sleep(0.5)  # the listener has taken all three
        extra = _connect(hl7)
        assert _closed_within(extra, 10) < 5
        late = _connect(hl7)  # still refused: nothing it sends is read
        with contextlib.suppress(OSError):  # the listener may have closed it already
            late.sendall(b"\x0b" + _sample("ADT-A04-01.hl7", "CAP9") + b"\x1c\r")
        _closed_within(late, 10)
        # the three open connections are served
        first[0].sendall(b"\x0b" + _sample("ADT-A04-01.hl7", "CAP1") + b"\x1c\r")
        ack = _msa(first[0].recv(65536))
        assert ack[1:3] == ["AA", "CAP1"], ack
        # one closes: a new connection is served again
        first[2].close()
        time.sleep(0.5)
        with MLLPClient("127.0.0.1", hl7.port) as client:
            ack = _msa(client.send_message(_sample("ADT-A04-01.hl7", "CAP2")))
            assert ack[1:3] == ["AA", "CAP2"], ack
        for sock in first[:2]:
            sock.close()
    assert _stored(data, "CAP9") == "[]"
    assert hl7.output.count("connections open, the most") == 2, hl7.output


def test_eight_slow_senders_with_half_a_15_mb_message_each_hold_their_size(data):
    half = b"\x0b" + _sample("ADT-A04-01.hl7", "SLOW")[:200] + b"NTE|1||"
    half += b"X" * (15 * 1024 * 1024 // 2 - len(half))
    with _listening(data, frame_timeout_seconds="120") as hl7:
        before = _rss_mb(hl7)
        senders = [_connect(hl7) for _ in range(8)]
        view = memoryview(half)
        for step in range(0, len(half), 256 * 1024):  # in turn, as slow links would
            for sock in senders:
                sock.sendall(view[step : step + 256 * 1024])
        time.sleep(1)
        grown = _rss_mb(hl7) - before
        # 8 x 7.5 MB held, plus the allocator's slack: far below hundreds of MB
        assert grown < 150, f"the listener grew by {grown:.0f} MB"
        for sock in senders:
            sock.close()
        with MLLPClient("127.0.0.1", hl7.port) as client:  # and still answers
            ack = _msa(client.send_message(_sample("ADT-A04-01.hl7", "AFTER")))
            assert ack[1:3] == ["AA", "AFTER"], ack


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECORDROOM_HL7_IDLE_TIMEOUT_SECONDS", "-1"),
        ("RECORDROOM_HL7_FRAME_TIMEOUT_SECONDS", "soon"),
        ("RECORDROOM_HL7_MAX_CONNECTIONS", "0"),
    ],
)
def test_a_bad_limit_is_refused_at_start_naming_the_setting(tmp_path, name, value):
    env = {**_env(tmp_path), name: value}
    done = subprocess.run(
        [BIN / "python", "-c", "import django; django.setup()"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"{name}={value!r}: give a number of at least" in done.stderr


def test_messages_about_one_patient_go_to_one_worker():
    a04 = b"MSH|^~\\&|A|F|R|R|20250101||ADT^A04|C1|P|2.5.1\rPID|1||M1^^^F^MR~9^^^S||X"
    a08 = b"MSH|^~\\&|B|F|R|R|20250102||ADT^A08|C2|P|2.5.1\nPID|1||M1^^^F^MR||Y"
    assert routing_key(a04) == routing_key(a08) == b"M1"
    assert routing_key(b"MSH|^~\\&|A|F|R|R|2025||ACK|C7|P|2.5.1\r") == b"C7"
    assert routing_key(b"junk") == b""
