"""Patient search latency through the HTTP API, against the real server (gunicorn).

    .venv/bin/python bench/http_api.py --data-dir /tmp/rr-bench-1m --queries 1000

Needs a population built by bench/patients_1m.py. Starts
`gunicorn recordroom.wsgi:application -w 2 --threads 4 -k gthread` on a free port
with RECORDROOM_DATA_DIR set, creates `benchuser` (HIM specialist, every facility)
and an API token (the CLI's services, in-process), then sends the queries of
bench/search.py as GET /api/v1/patients?... one after another on one keep-alive
connection (http.client). Each search is audited by the API, as in production.
Target: p95 <= 50 ms. Also times GET /api/v1/patients/{id} (audited chart.open).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _common

TARGET_MS = 50.0
BIN = _common.BIN


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--queries", type=int, default=1000, help="per kind of query")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    data_dir = str(Path(args.data_dir).resolve())
    env = {**os.environ, "RECORDROOM_DATA_DIR": data_dir}
    _common.setup_django(data_dir)
    _common.require_population(data_dir)
    from search import build_cases

    token = ensure_token(env)
    cases = build_cases(random.Random(args.seed), args.queries + args.warmup)
    keep = (
        "name + birth date",
        "name only, common surname ('smith')",
        "MRN",
        "account",
    )
    cases = [c for c in cases if c.label.startswith(keep)]
    headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
    port = args.port or free_port()
    with gunicorn(port, env, args.workers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rows = run_all(cases, args.warmup, lambda path: get(conn, path, headers))
        conn.close()
    from recordroom.mpi.models import Patient

    print(f"HTTP API over {Patient.objects.count():,} patients ({data_dir})")
    print(f"gunicorn -w {args.workers} --threads 4 -k gthread on 127.0.0.1:{port}; "
          "one keep-alive")  # fmt: skip
    print("connection, requests one after another; each request audited")
    _common.print_table("HTTP API, user with all facilities in scope", rows, TARGET_MS)

    # The same requests through the whole Django stack in this process (no socket,
    # no gunicorn), with this thread's CPU time: what a request costs when it does
    # not wait for a core.
    from django.test import Client

    # An allowed host: the settings add no "testserver" outside the test suite.
    client = Client(HTTP_AUTHORIZATION=headers["Authorization"], HTTP_HOST="127.0.0.1")
    rows = run_all(cases, args.warmup, lambda path: in_process(client, path))
    _common.print_table("Django stack in-process (django.test.Client)", rows, TARGET_MS)
    _common.footer()
    return 0


Row = tuple[str, dict[str, float], dict[str, float] | None]


def run_all(cases: list[Any], warmup: int, send: Any) -> list[Row]:
    """Each case's searches, then GET /patients/{id} for the first hits."""
    rows: list[Row] = []
    first_ids: list[str] = []
    for case in cases:
        wall, cpu = [], []
        for n, kw in enumerate(case.kwargs):
            params = {k: str(v) for k, v in kw.items()}
            ms, cpu_ms, body = send(
                "/api/v1/patients?" + urllib.parse.urlencode(params)
            )
            if n >= warmup:
                wall.append(ms)
                cpu.append(cpu_ms)
            if body["items"] and len(first_ids) < len(case.kwargs):
                first_ids.append(body["items"][0]["id"])
        rows.append((f"search: {case.label}", *_stats(wall, cpu)))
    wall, cpu = [], []
    for n, pid in enumerate(first_ids):
        ms, cpu_ms, _ = send(f"/api/v1/patients/{pid}")
        if n >= warmup:
            wall.append(ms)
            cpu.append(cpu_ms)
    rows.append(("GET /patients/{id}", *_stats(wall, cpu)))
    return rows


def _stats(
    wall: list[float], cpu: list[float | None]
) -> tuple[dict[str, float], dict[str, float] | None]:
    known = [c for c in cpu if c is not None]
    return _common.percentiles(wall), (_common.percentiles(known) if known else None)


def in_process(client: Any, path: str) -> tuple[float, float, Any]:
    c0, t0 = time.thread_time(), time.perf_counter()
    resp = client.get(path)
    ms, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
    if resp.status_code != 200:
        raise SystemExit(
            f"GET {path} answered {resp.status_code}: {resp.content[:300]!r}"
        )
    return ms, cpu, resp.json()


def get(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> tuple[float, None, Any]:
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    ms = (time.perf_counter() - start) * 1000
    if resp.status != 200:
        raise SystemExit(f"GET {path} answered {resp.status}: {data[:300]!r}")
    return ms, None, json.loads(data)


def ensure_token(env: dict[str, str]) -> str:
    """benchuser (HIM specialist, every facility) and a fresh API token.

    Through the same services as `recordroom user create` / `token create`, in this
    process (the CLI would start Django twice more). `env` is kept for callers.
    """
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_token, create_user
    from recordroom.kernel.actor import Actor

    actor = Actor(channel="cli", name="bench")
    if not User.objects.filter(username="benchuser").exists():
        create_user(actor=actor, username="benchuser", role="him_specialist",
                    all_facilities=True)  # fmt: skip
    _, token = create_token(actor=actor, username="benchuser", name="bench")
    return token


@contextlib.contextmanager
def gunicorn(port: int, env: dict[str, str], workers: int = 2) -> Iterator[None]:
    """gunicorn serving the app on 127.0.0.1:port until the block ends."""
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "recordroom.wsgi:application", "-b",
         f"127.0.0.1:{port}", "-w", str(workers), "--threads", "4", "-k", "gthread",
         "--log-level", "warning"],
        env=env, cwd=_common.REPO,
    )  # fmt: skip
    try:
        wait_until_serving(port)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer /healthz in {timeout}s")


if __name__ == "__main__":
    sys.exit(main())
