"""The MLLP listener as a separate process on a fresh SQLite data folder, fed the
shared sample ADT messages with python-hl7's MLLP client."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hl7.client import MLLPClient

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[3]
SAMPLES = (
    Path(os.environ.get("RECORDROOM_CONFORMANCE_DATA", ROOT.parent / "shared/testdata"))
    / "hl7v2"
)


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "RECORDROOM_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "recordroom.settings",
    }
    env.pop("RECORDROOM_DATABASE_URL", None)
    return env


def _run(args: list, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=_env(data_dir), capture_output=True, text=True, timeout=180
    )


def _sample(name: str, control: str | None = None) -> bytes:
    text = (SAMPLES / name).read_text().replace("\r\n", "\r").replace("\n", "\r")
    if control:
        msh, rest = text.split("\r", 1)
        fields = msh.split("|")
        fields[9] = control
        text = "|".join(fields) + "\r" + rest
    return text.encode()


def _msa(ack: bytes | str) -> list[str]:
    text = ack.decode() if isinstance(ack, bytes) else ack
    text = text.strip("\x0b\x1c\r\n")
    return next(s for s in text.split("\r") if s.startswith("MSA")).split("|")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener(tmp_path):
    if not (SAMPLES / "ADT-A04-01.hl7").exists():
        pytest.skip(f"HL7 v2 sample messages not found in {SAMPLES}")
    data = tmp_path / "data"
    done = _run([BIN / "recordroom", "init"], data)
    assert done.returncode == 0, done.stderr
    facilities = {
        _sample(n).decode().split("|")[3].split("^")[0]
        for n in ("ADT-A01-01.hl7", "ADT-A04-01.hl7", "ADT-A08-01.hl7")
    }
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        f"[F.objects.create(code=c, name=c, mrn_system='urn:test:'+c) "
        f"for c in {sorted(facilities)!r}]"
    )
    made = _run([BIN / "python", "-c", make], data)
    assert made.returncode == 0, made.stderr
    with listening(_env(data)) as running:
        yield data, running.port


class Listening:
    """A listener started by `listening`; its output once it has stopped."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port, self.output = proc, port, ""


@contextlib.contextmanager
def listening(env: dict[str, str]) -> Iterator[Listening]:
    """`python -m recordroom.interop.hl7v2.listen` on a free port, once it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [BIN / "python", "-m", "recordroom.interop.hl7v2.listen", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    running = Listening(proc, port)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the HL7 listener did not open its port")
        yield running
    finally:
        proc.terminate()
        running.output = proc.communicate(timeout=30)[0]


def test_sample_adt_messages_over_mllp(listener):
    data, port = listener
    with MLLPClient("127.0.0.1", port) as client:
        first = _msa(client.send_message(_sample("ADT-A04-01.hl7")))
        assert first[1:3] == ["AA", "MSG00001"], first
        again = _msa(client.send_message(_sample("ADT-A04-01.hl7")))
        assert again[1] == "AA" and "duplicate" in again[3]
        # (its PV1-36 'Admitted as Inpatient' is no disposition: an A08 applies
        # PV1-36 and would refuse it, test_mllp_samples.py)
        a08 = _sample("ADT-A08-01.hl7", "MSG00002").replace(
            b"|Admitted as Inpatient^Sample^ACR|", b"||"
        )
        update = _msa(client.send_message(a08))
        assert update[1:3] == ["AA", "MSG00002"], update
        admit = _msa(client.send_message(_sample("ADT-A01-01.hl7", "MSG00003")))
        assert admit[1:3] == ["AA", "MSG00003"], admit
        junk = _msa(client.send_message(b"this is not HL7"))
        assert junk[1] == "AR"
        unknown = _sample("ADT-A04-01.hl7", "MSG00004").replace(
            b"|GHHSFacility^", b"|NOSUCHPLACE^", 1
        )
        error = _msa(client.send_message(unknown))
        assert error[1:3] == ["AE", "MSG00004"] and "NOSUCHPLACE" in error[3]
    check = (
        "import django; django.setup();"
        "from recordroom.interop.models import InterfaceMessage as M;"
        "from recordroom.mpi.models import Patient as P;"
        "print(P.objects.count(), sorted(M.objects.values_list('status', flat=True)))"
    )
    out = _run([BIN / "python", "-c", check], data)
    assert out.stdout.split(" ", 1)[0] == "1", out.stdout + out.stderr
    assert (
        "['duplicate', 'error', 'processed', 'processed', 'processed', 'rejected']"
        in out.stdout
    )
