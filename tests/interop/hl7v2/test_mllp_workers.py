"""On PostgreSQL the listener applies messages in several threads: a message and its
resend arriving at once on two connections are still applied once (the second is
the duplicate), and an update never overtakes its registration, because messages
about one patient share one thread. Runs in the PostgreSQL pass only, against a
listener of its own on a database of its own."""

from __future__ import annotations

import os
import subprocess
import threading

import dj_database_url
import pytest
from django.conf import settings
from hl7.client import MLLPClient

from .test_mllp import BIN, _msa, listening

pytestmark = pytest.mark.postgres
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
FACILITY = "RACE"


def _a04(control: str, mrn: str, family: str) -> bytes:
    return (
        f"MSH|^~\\&|REG|{FACILITY}|RR|RR|20250102083000||ADT^A04^ADT_A01|{control}"
        f"|P|2.5.1\rEVN|A04|20250102083000\r"
        f"PID|1||{mrn}^^^{FACILITY}^MR||{family}^ANN||19700101|F\r"
    ).encode()


def _a08(control: str, mrn: str, family: str) -> bytes:
    return _a04(control, mrn, family).replace(b"ADT^A04", b"ADT^A08")


@pytest.fixture(scope="module")
def pg_listener(tmp_path_factory):
    if not POSTGRES:
        pytest.skip("PostgreSQL pass only")
    import psycopg

    url = os.environ["RECORDROOM_DATABASE_URL"]
    name = f"{dj_database_url.parse(url)['NAME']}_hl7_workers"
    own = url.rsplit("/", 1)[0] + "/" + name
    admin = url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0]
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    data = tmp_path_factory.mktemp("hl7-workers") / "data"
    env = {
        **os.environ,
        "RECORDROOM_DATA_DIR": str(data),
        "RECORDROOM_DATABASE_URL": own,
        "DJANGO_SETTINGS_MODULE": "recordroom.settings",
        "RECORDROOM_HL7_WORKERS": "4",
    }

    def run(args: list) -> str:
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run([BIN / "recordroom", "init"])
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        f"F.objects.create(code={FACILITY!r}, name='Race', mrn_system='urn:test:race')"
    )
    run([BIN / "python", "-c", make])
    try:
        with listening(env) as running:
            yield running.port, run
    finally:
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert "4 database workers" in running.output, running.output


def _at_once(port: int, batches: list[list[bytes]]) -> list[list[list[str]]]:
    """Each batch over its own connection, all connections starting together."""
    acks: list[list[list[str]]] = [[] for _ in batches]
    go = threading.Barrier(len(batches))

    def send(n: int) -> None:
        with MLLPClient("127.0.0.1", port) as client:
            go.wait()
            for raw in batches[n]:
                acks[n].append(_msa(client.send_message(raw)))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return acks


def test_a_resend_on_a_second_connection_at_once_is_applied_once(pg_listener):
    port, run = pg_listener
    for round_ in range(5):
        raw = _a04(f"DUP{round_}", f"M-DUP{round_}", "TWICE")
        first, second = _at_once(port, [[raw], [raw]])
        assert {first[0][1], second[0][1]} == {"AA"}, (first, second)
    out = run([BIN / "python", "-c", (
        "import django; django.setup();"
        "from recordroom.interop.models import InterfaceMessage as M;"
        "from recordroom.mpi.models import PatientIdentifier as I;"
        "print(sorted(M.objects.filter(control_id__startswith='DUP')"
        ".values_list('status', flat=True)));"
        "print(I.objects.filter(value__startswith='M-DUP').count())"
    )])  # fmt: skip
    statuses, mrns = out.strip().split("\n")
    assert statuses == str(["duplicate"] * 5 + ["processed"] * 5)
    assert mrns == "5"


def test_each_patients_messages_stay_in_order_across_connections(pg_listener):
    port, run = pg_listener
    lanes = [
        [_a04(f"ORD{n}-0", f"M-ORD{n}", "FIRST")]
        + [_a08(f"ORD{n}-{k}", f"M-ORD{n}", f"NAME{k}") for k in range(1, 6)]
        for n in range(4)
    ]
    acks = _at_once(port, lanes)
    assert all(a[1] == "AA" for lane in acks for a in lane), acks
    out = run([BIN / "python", "-c", (
        "import django; django.setup();"
        "from recordroom.mpi.models import PatientName as N;"
        "print(sorted(N.objects.filter(patient__identifiers__value__startswith="
        "'M-ORD', use='legal').values_list('family', flat=True)))"
    )])  # fmt: skip
    assert out.strip() == str(["NAME5"] * 4)
