"""HL7 v2 ADT over one MLLP connection, each message committed before its ACK.

    .venv/bin/python bench/hl7_adt.py --data-dir /tmp/rr-bench-hl7 --messages 5000

On a fresh data folder (`recordroom init`, then a facility BENCH and 40 providers)
starts `recordroom hl7 listen` and sends --messages synthetic ADT messages over ONE
connection with python-hl7's MLLPClient, each waiting for its ACK (MLLP is
synchronous): about 40% A04 registrations with a visit (new patient + encounter), 30%
A08 updates of earlier patients (new name or address, with their latest visit), 20%
A01 admissions (half new patients), 10% A03 discharges of earlier admissions.
Deterministic (--seed); synthetic names only. Every ACK must be AA. Reports messages
per second overall and per event type, round-trip p50/p95/p99, the listener's CPU per
message and the load average. Target: >= 300 messages/s (exit 1 under it unless --report-only).

Runs on SQLite; with RECORDROOM_DATABASE_URL set (a PostgreSQL database whose name
contains "bench": it is dropped and created afresh) it then runs once more on
PostgreSQL (data folder DIR-pg). --database runs one of the two only.
--connections N sends the same messages over N connections at once (each patient's
messages over one of them, in order: what an interface engine's parallel outbound
queues do); the listener applies them with RECORDROOM_HL7_WORKERS threads on
PostgreSQL, one on SQLite.
--in-process runs services.handle() on the same messages in this process (no socket;
with this thread's CPU time); --profile FILE does that under cProfile and prints the
functions the time went to.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import _common
from _names import NameSource

TARGET = 300.0
BIN = _common.BIN
FACILITY = "BENCH"
MIX = (("A04", 0.40), ("A08", 0.30), ("A01", 0.20), ("A03", 0.10))
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "Elm St",
           "Lakeview Blvd", "Hillcrest Way", "River Rd", "Washington Ave")  # fmt: skip
CITIES = (("Springfield", "IL", "62701", "217"), ("Peoria", "IL", "61602", "309"),
          ("Madison", "WI", "53703", "608"), ("Dubuque", "IA", "52001", "563"),
          ("Champaign", "IL", "61820", "217"), ("Rockford", "IL", "61101", "815"))  # fmt: skip


@dataclass
class Person:
    mrn: str
    family: str
    given: str
    middle: str
    dob: str
    sex: str
    address: str
    phone: str
    ssn: str
    # visit number, patient class, location, attending NPI
    visits: list[tuple[str, str, str, str]] = field(default_factory=list)


class Feed:
    """The synthetic ADT stream: same seed, same messages."""

    def __init__(self, seed: int, npis: list[str]) -> None:
        self.rng = random.Random(seed)
        self.names = NameSource(seed, tail_size=20_000)
        self.npis = npis
        self.people: list[Person] = []
        self.open: list[tuple[Person, int, str]] = []  # person, visit index, admit
        self.clock = datetime(2025, 3, 1, 7, 0, 0)
        self.serial = 0

    def messages(self, n: int) -> Iterator[tuple[str, bytes]]:
        events, weights = zip(*MIX, strict=True)
        for _ in range(n):
            event = self.rng.choices(events, weights)[0]
            if event == "A08" and not self.people:
                event = "A04"
            if event == "A03" and not self.open:
                event = "A01"
            yield event, getattr(self, f"_{event.lower()}")()

    def _person(self) -> Person:
        rng, n = self.rng, len(self.people)
        female = rng.random() < 0.51
        dob = datetime(1935, 1, 1) + timedelta(days=rng.randrange(0, 32_500))
        ssn = f"9{n // 1_000_000 % 100:02d}-{n // 10_000 % 100:02d}-{n % 10_000:04d}"
        person = Person(
            mrn=f"M{1_000_000 + n}",
            family=self.names.family(rng),
            given=self.names.given(rng, female),
            middle=self.names.given(rng, female)[:1] if rng.random() < 0.6 else "",
            dob=f"{dob:%Y%m%d}",
            sex="F" if female else "M",
            address=self._address(),
            phone="",
            ssn=ssn if rng.random() < 0.8 else "",
        )
        city = next(c for c in CITIES if f"^{c[0]}^" in person.address)
        person.phone = f"^PRN^PH^^^{city[3]}^555{rng.randrange(100, 200):04d}"
        self.people.append(person)
        return person

    def _address(self) -> str:
        city, state, postal, _ = self.rng.choice(CITIES)
        street = f"{self.rng.randrange(1, 9999)} {self.rng.choice(STREETS)}"
        return f"{street}^^{city}^{state}^{postal}^USA^H"

    def _msg(self, event: str, person: Person, tail: list[str]) -> bytes:
        self.serial += 1
        self.clock += timedelta(seconds=self.rng.randrange(5, 90))
        ts = f"{self.clock:%Y%m%d%H%M%S}"
        p = person
        segs = [
            f"MSH|^~\\&|REGADT|{FACILITY}|RECORDROOM|{FACILITY}|{ts}||"
            f"ADT^{event}^ADT_A01|B{self.serial:08d}|P|2.5.1|||AL|NE||UNICODE UTF-8",
            f"EVN|{event}|{ts}",
            f"PID|1||{p.mrn}^^^{FACILITY}^MR||{p.family}^{p.given}^{p.middle}^^^^L||"
            f"{p.dob}|{p.sex}|||{p.address}||{p.phone}||||||{p.ssn}",
        ]
        if self.rng.random() < 0.5:
            segs.append(f"NK1|1|{p.family}^{self.names.given(self.rng, True)}|SPO")
        segs += [s.replace("{ts}", ts) for s in tail]
        return ("\r".join(segs) + "\r").encode()

    def _pv1(self, visit: tuple[str, str, str, str], admit: str, **extra: str) -> str:
        number, cls, loc, doctor = visit
        f = ["PV1", "1", cls] + [""] * 43
        f[3], f[7], f[19], f[44] = loc, f"{doctor}^DOC^BENCH", number, admit
        for k, v in extra.items():
            f[int(k[1:])] = v
        return "|".join(f)

    def _visit(self, person: Person, cls: str, loc: str) -> tuple[str, str, str, str]:
        number = f"V{len(person.visits)}{person.mrn[1:]}"
        person.visits.append((number, cls, loc, self.rng.choice(self.npis)))
        return person.visits[-1]

    def _a04(self) -> bytes:
        p = self._person()
        cls = "E" if self.rng.random() < 0.15 else "O"
        loc = "ED^^" if cls == "E" else f"CLINIC{self.rng.randrange(1, 9)}^^"
        return self._msg("A04", p, [self._pv1(self._visit(p, cls, loc), "{ts}")])

    def _a01(self) -> bytes:
        old = self.people and self.rng.random() < 0.5
        p = self.rng.choice(self.people) if old else self._person()
        loc = f"{self.rng.choice('2345')}E^{self.rng.randrange(1, 40):02d}^A"
        visit = self._visit(p, "I", loc)
        self.open.append((p, len(p.visits) - 1, f"{self.clock:%Y%m%d%H%M%S}"))
        dg1 = "DG1|1||R07.9^Chest pain, unspecified^I10||{ts}|A"
        pv1 = self._pv1(visit, "{ts}", f17=self.rng.choice(self.npis))
        return self._msg("A01", p, [pv1, dg1])

    def _a03(self) -> bytes:
        p, index, admit = self.open.pop(self.rng.randrange(len(self.open)))
        dispo = self.rng.choice(("01", "01", "01", "06", "03"))
        pv1 = self._pv1(p.visits[index], admit, f36=dispo, f45="{ts}")
        return self._msg("A03", p, [pv1])

    def _a08(self) -> bytes:
        p = self.rng.choice(self.people)
        roll = self.rng.random()
        if roll < 0.55:  # a name change (marriage, corrected spelling)
            p.family = self.names.family(self.rng)
        if roll >= 0.45:  # a move
            p.address = self._address()
        tail = []
        if p.visits:  # senders repeat the latest visit in an A08
            tail.append(self._pv1(p.visits[-1], ""))
        return self._msg("A08", p, tail)


def npis(count: int) -> list[str]:
    from recordroom.kernel.npi import npi_check_digit

    return [f"1{n:08d}" + npi_check_digit(f"1{n:08d}") for n in range(1, count + 1)]


def fresh_database(data: Path) -> None:
    """Empty data folder; for PostgreSQL, the bench database dropped and created."""
    if data.exists():
        shutil.rmtree(data)
    url = os.environ.get("RECORDROOM_DATABASE_URL", "")
    if not url:
        return
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if "bench" not in cfg["NAME"]:
        raise SystemExit(
            f"refusing to drop PostgreSQL database {cfg['NAME']!r}: name a database "
            "whose name contains 'bench' in RECORDROOM_DATABASE_URL"
        )
    info = {k.lower(): v for k, v in cfg.items() if k in ("HOST", "PORT", "USER",
                                                          "PASSWORD") and v}  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    _common.ensure_database()


def prepare(data: Path, env: dict[str, str], providers: list[str]) -> None:
    """`recordroom init`, then the facility and providers the messages name."""
    fresh_database(data)
    done = subprocess.run([str(BIN / "recordroom"), "init"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"recordroom init failed:\n{done.stdout}{done.stderr}")
    _common.setup_django(data, migrate=False)
    from django.db import connection

    from recordroom.mpi.models import Facility
    from recordroom.records.models import Provider

    facility = Facility.objects.create(
        code=FACILITY, name="Bench General Hospital", timezone="America/Chicago",
        mrn_system="urn:oid:2.16.840.1.113883.3.9999.8",
    )  # fmt: skip
    for i, npi in enumerate(providers):
        Provider.objects.create(npi=npi, family=f"Doc{i}", given="Bench")
    Provider.facilities.through.objects.bulk_create(
        Provider.facilities.through(provider=p, facility=facility)
        for p in Provider.objects.all()
    )
    connection.close()


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the listener exited:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the HL7 listener did not open its port in 60 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> list[float]:
    """CPU seconds (user + system) of each live thread of a process, largest first
    (Python's threads all carry the process's name, so they are not named)."""
    out: list[float] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append(sum(int(x) for x in fields[11:13]) / os.sysconf("SC_CLK_TCK"))
    return sorted(out, reverse=True)


def msa(ack: str) -> list[str]:
    seg = next((s for s in ack.strip("\x0b\x1c\r\n").split("\r") if s[:3] == "MSA"), "")
    return seg.split("|")


Send = Callable[[bytes], tuple[str, float | None]]


def run_feed(
    feed: Iterator[tuple[str, bytes]],
    send: Send,
    warmup: int,
    on_start: Callable[[], None] = lambda: None,
) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """Send every message; round trips (ms) and CPU (ms, when known) per event type,
    and the seconds the measured messages took from first send to last ACK."""
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    start = 0.0
    for n, (event, raw) in enumerate(feed):
        if n == warmup:
            on_start()
            start = time.perf_counter()
        t0 = time.perf_counter()
        ack, cpu_ms = send(raw)
        ms = (time.perf_counter() - t0) * 1000
        got = msa(ack)
        if len(got) < 2 or got[1] != "AA":
            control = raw.split(b"|", 10)[9].decode()
            raise SystemExit(f"message {n} ({event}, {control}) was not accepted:\n"
                             f"{ack!r}\nmessage:\n{raw.decode()!r}")  # fmt: skip
        if n >= warmup:
            wall.setdefault(event, []).append(ms)
            if cpu_ms is not None:
                cpu.setdefault(event, []).append(cpu_ms)
    return wall, cpu, time.perf_counter() - start


def over_mllp(port: int) -> tuple[Send, Callable[[], None]]:
    from hl7.client import MLLPClient

    client = MLLPClient("127.0.0.1", port)

    def send(raw: bytes) -> tuple[str, None]:
        got = client.send_message(raw)
        while not got.endswith(b"\x1c\r"):  # one recv() may hold part of an ACK
            more = client.socket.recv(4096)
            if not more:
                raise SystemExit("the listener closed the connection")
            got += more
        return got.decode(), None

    return send, client.close


def in_process() -> Send:
    from recordroom.interop.hl7v2.services import handle

    def send(raw: bytes) -> tuple[str, float]:
        c0 = time.thread_time()
        ack = handle(raw).encode().decode()
        return ack, (time.thread_time() - c0) * 1000

    return send


def report(args: argparse.Namespace, wall: dict[str, list[float]],
           cpu: dict[str, list[float]], seconds: float, listener_cpu: float | None,
           loads: tuple[tuple[float, ...], tuple[float, ...]]) -> float:  # fmt: skip
    from django.db import connection

    from recordroom.interop.models import InterfaceMessage
    from recordroom.mpi.models import Patient
    from recordroom.records.models import Encounter

    total = sum(len(v) for v in wall.values())
    rate = total / seconds
    where = (
        "in-process handle()" if args.in_process
        else "one MLLP connection" if args.connections == 1
        else f"{args.connections} MLLP connections at once"
    )  # fmt: skip
    print(f"HL7 ADT, {where}, {connection.vendor}: {args.messages:,} messages "
          f"({args.warmup} warm-up not counted), seed {args.seed}")  # fmt: skip
    print(f"after: {Patient.objects.count():,} patients, {Encounter.objects.count():,} "
          f"encounters, {InterfaceMessage.objects.filter(status='processed').count():,}"
          " messages processed; every ACK AA")  # fmt: skip
    print(f"\nmessages per second: {rate:,.1f} over {seconds:.1f} s "
          f"(target >= {TARGET:g}: {'ok' if rate >= TARGET else 'MISSED'})")  # fmt: skip
    if listener_cpu is not None:
        print(f"listener CPU: {listener_cpu:.1f} s, {listener_cpu / total * 1000:.2f} ms "
              f"per message ({total / listener_cpu:,.0f} messages per CPU second)")  # fmt: skip
    print(f"\n  {'event':<8} {'n':>6} {'msg/s':>8} {'mean':>7} {'p50':>7} {'p95':>7} "
          f"{'p99':>7} {'max':>7}" + (f" {'cpu p50':>8} {'cpu p95':>8}" if cpu else ""))  # fmt: skip
    wall["all"] = [ms for v in wall.values() for ms in v]
    cpu["all"] = [ms for v in cpu.values() for ms in v]
    for event in [*sorted(set(wall) - {"all"}), "all"]:
        st = _common.percentiles(wall[event])
        line = (f"  {event:<8} {st['n']:>6} {1000 / st['mean']:>8.1f} {st['mean']:>7.2f} "
                f"{st['p50']:>7.2f} {st['p95']:>7.2f} {st['p99']:>7.2f} {st['max']:>7.2f}")  # fmt: skip
        if cpu["all"]:
            c = _common.percentiles(cpu[event])
            line += f" {c['p50']:>8.2f} {c['p95']:>8.2f}"
        print(line)
    print("  (round trip, milliseconds; msg/s = 1000 / mean round trip of that type)")
    (b1, b5, b15), (a1, a5, a15) = loads
    print(f"\nload average before: {b1:.2f} {b5:.2f} {b15:.2f}; "
          f"after: {a1:.2f} {a5:.2f} {a15:.2f}")  # fmt: skip
    _common.footer()
    return rate


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="/tmp/rr-bench-hl7")
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=50, help="first messages not timed")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--connections", type=int, default=1,
                   help="MLLP connections sending at once (each patient on one)")  # fmt: skip
    p.add_argument("--in-process", action="store_true", help="handle() here, no socket")
    p.add_argument("--profile", metavar="FILE", help="cProfile of --in-process to FILE")
    p.add_argument("--database", choices=("sqlite", "postgresql"),
                   help="only this one (default: SQLite, then PostgreSQL if "
                   "RECORDROOM_DATABASE_URL is set)")  # fmt: skip
    _common.add_target_flag(p)
    args = p.parse_args()
    args.in_process = args.in_process or bool(args.profile)
    return args


def main() -> int:
    args = parse_args()
    if args.database is None and os.environ.get("RECORDROOM_DATABASE_URL"):
        code = 0
        for database in ("sqlite", "postgresql"):  # a process each: one Django each
            print(f"\n===== {database}", flush=True)
            leg = [sys.executable, __file__, *sys.argv[1:], "--database", database]
            code = max(code, subprocess.run(leg).returncode)
        return code
    if args.database == "sqlite":
        os.environ.pop("RECORDROOM_DATABASE_URL", None)
    elif args.database and not os.environ.get("RECORDROOM_DATABASE_URL"):
        raise SystemExit("--database postgresql needs RECORDROOM_DATABASE_URL")
    data = Path(args.data_dir + ("-pg" if args.database == "postgresql" else ""))
    data = data.resolve()
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    providers = npis(40)
    prepare(data, env, providers)
    feed = iter(list(Feed(args.seed, providers).messages(args.messages)))  # untimed
    before = os.getloadavg()
    listener_cpu = None
    if args.in_process:
        import cProfile

        prof = cProfile.Profile() if args.profile else None
        if prof:
            prof.enable()
        wall, cpu, seconds = run_feed(feed, in_process(), args.warmup)
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
    else:
        wall, cpu, seconds, listener_cpu = over_the_wire(args, data, env, feed)
    rate = report(args, wall, cpu, seconds, listener_cpu, (before, os.getloadavg()))
    if args.profile:
        import pstats

        stats = pstats.Stats(args.profile)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    return 0 if rate >= TARGET or args.report_only else 1


def over_the_wire(
    args: argparse.Namespace, data: Path, env: dict[str, str],
    feed: Iterator[tuple[str, bytes]],
) -> tuple[dict[str, list[float]], dict[str, list[float]], float, float]:  # fmt: skip
    """Start `recordroom hl7 listen`, send the feed, stop it; its CPU seconds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", args.port))
        port = s.getsockname()[1]
    log = data / "listener.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "recordroom"), "hl7", "listen", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, proc, log)
        if args.connections > 1:
            wall, cpu, seconds, used = side_by_side(args, port, proc.pid, feed)
            return wall, cpu, seconds, used
        send, close = over_mllp(port)
        cpu0 = [0.0]
        try:
            wall, cpu, seconds = run_feed(
                feed,
                send,
                args.warmup,
                lambda: cpu0.__setitem__(0, cpu_seconds(proc.pid)),
            )
            used = cpu_seconds(proc.pid) - cpu0[0]
            threads = thread_cpu(proc.pid)  # start-up and warm-up included
            print("listener CPU by thread (whole run with start-up, s): "
                  + ", ".join(f"{sec:.1f}" for sec in threads if sec))  # fmt: skip
        finally:
            close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return wall, cpu, seconds, used


def side_by_side(
    args: argparse.Namespace, port: int, pid: int,
    feed: Iterator[tuple[str, bytes]],
) -> tuple[dict[str, list[float]], dict[str, list[float]], float, float]:  # fmt: skip
    """The warm-up over one connection, then the rest over --connections at once,
    each patient's messages over the same connection in their order."""
    import threading
    import zlib

    messages = list(feed)
    warm, rest = messages[: args.warmup], messages[args.warmup :]
    send, close = over_mllp(port)
    try:
        run_feed(iter(warm), send, len(warm))
    finally:
        close()
    lanes: list[list[tuple[str, bytes]]] = [[] for _ in range(args.connections)]
    for event, raw in rest:
        mrn = raw.split(b"\rPID|", 1)[1].split(b"|", 3)[2].split(b"^", 1)[0]
        lanes[zlib.crc32(mrn) % args.connections].append((event, raw))
    results: list[tuple[dict[str, list[float]], dict[str, list[float]], float]] = []
    failures: list[BaseException] = []
    go = threading.Barrier(args.connections + 1)

    def lane(items: list[tuple[str, bytes]]) -> None:
        lane_send, lane_close = over_mllp(port)
        try:
            go.wait()
            results.append(run_feed(iter(items), lane_send, 0))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)
        finally:
            lane_close()

    threads = [threading.Thread(target=lane, args=(items,)) for items in lanes]
    for t in threads:
        t.start()
    go.wait()
    cpu0, start = cpu_seconds(pid), time.perf_counter()
    for t in threads:
        t.join()
    seconds, used = time.perf_counter() - start, cpu_seconds(pid) - cpu0
    if failures:
        raise SystemExit(f"a connection failed: {failures[0]}")
    wall: dict[str, list[float]] = {}
    for lane_wall, _, _ in results:
        for event, times in lane_wall.items():
            wall.setdefault(event, []).extend(times)
    return wall, {}, seconds, used


if __name__ == "__main__":
    sys.exit(main())
