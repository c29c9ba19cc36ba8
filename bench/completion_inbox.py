"""A provider's inbox with 500 open deficiencies, over HTTP against the real server
(gunicorn): the page, the API list and the landing page's count (issue 14).

    .venv/bin/python bench/completion_inbox.py --data-dir /tmp/rr-bench-inbox

The first run loads --discharges visits the way bench/completion.py does (bulk rows,
real PDFs, 50 rules), analyses them (deficiencies opened by the engine), and gives
the --deficiencies oldest open ones to one provider linked to the user
`bench.provider` (role provider). Then it starts `gunicorn recordroom.wsgi:application
-w 1 --threads 4 -k gthread`, signs in through the login form (a session, as a
browser does) and GETs /inbox/ --requests times one after another on one keep-alive
connection; then /api/v1/inbox/deficiencies and /api/v1/inbox with an API token.
Every page is audited as a real one is (a completion.view per patient listed).
Target: the page p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import time
import urllib.parse
from pathlib import Path

import _common
from http_api import free_port, gunicorn

TARGET_MS = 200.0
USER = "bench.provider"
PASSWORD = "bench provider password 14"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--discharges", type=int, default=300)
    p.add_argument("--deficiencies", type=int, default=500)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--seed", type=int, default=14)
    _common.add_target_flag(p)
    args = p.parse_args()
    _common.ensure_database()
    data_dir = str(Path(args.data_dir).resolve())
    _common.setup_django(data_dir)
    held = load(args.discharges, args.deficiencies, random.Random(args.seed))
    token = _token()
    env = {**os.environ, "RECORDROOM_DATA_DIR": data_dir}
    port = free_port()
    with gunicorn(port, env, workers=1):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookie = sign_in(conn)
        page = _run(conn, "/inbox/", {"Cookie": cookie}, args)
        bearer = {"Authorization": f"Bearer {token}"}
        api_list = _run(conn, "/api/v1/inbox/deficiencies", bearer, args)
        api_count = _run(conn, "/api/v1/inbox", bearer, args)
        conn.close()
    print(f"provider inbox: {held} open deficiencies of "
          f"{_patients()} patients ({data_dir})")  # fmt: skip
    print("gunicorn -w 1 --threads 4 -k gthread; one keep-alive connection, requests "
          "one after another; each list audited per patient")  # fmt: skip
    _common.print_table("Provider inbox over HTTP", [
        (f"GET /inbox/ (page, {held} deficiencies)", page, None),
        ("  same page in-process (Django stack, no socket)", *in_process(args)),
        ("GET /api/v1/inbox/deficiencies (JSON)", api_list, None),
        ("GET /api/v1/inbox (landing page count)", api_count, None),
    ], TARGET_MS)  # fmt: skip
    _common.footer()
    if page["p95"] > TARGET_MS and not args.report_only:
        raise SystemExit(1)


def load(discharges: int, wanted: int, rng: random.Random) -> int:
    """Visits analysed by the engine; the oldest `wanted` open deficiencies given to
    the bench provider. Returns how many they hold."""
    from completion import load as load_visits
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_user
    from recordroom.completion.engine import analyze_many
    from recordroom.completion.models import Deficiency
    from recordroom.kernel.actor import Actor
    from recordroom.records.models import Provider

    actor = Actor(channel="bench")
    user = User.objects.filter(username=USER).first()
    if user is None:
        user = create_user(actor=actor, username=USER, role="provider",
                           password=PASSWORD, all_facilities=True)  # fmt: skip
    mine = Provider.objects.filter(user=user).first()
    if mine is None:
        mine = Provider.objects.create(family="Inbox", given="Bench", credentials="MD",
                                       user=user)  # fmt: skip
    held = Deficiency.objects.filter(provider=mine, status="open").count()
    if held >= wanted:
        return held
    encounters = load_visits(discharges, 10, rng)
    if not Deficiency.objects.exists():
        start = time.perf_counter()
        analyze_many(actor=actor, encounters=encounters)
        print(f"analysed {len(encounters)} visits in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    ids = list(Deficiency.objects.filter(status="open").exclude(provider=mine)
               .order_by("opened_at", "id").values_list("pk", flat=True)
               [: wanted - held])  # fmt: skip
    Deficiency.objects.filter(pk__in=ids).update(provider=mine)
    held = Deficiency.objects.filter(provider=mine, status="open").count()
    if held < wanted:
        print(f"only {held} open deficiencies: load more --discharges")
    return held


def _patients() -> int:
    from recordroom.completion.models import Deficiency

    return (Deficiency.objects.filter(provider__user__username=USER, status="open")
            .values("patient_id").distinct().count())  # fmt: skip


def _token() -> str:
    from recordroom.accounts.services import create_token
    from recordroom.kernel.actor import Actor

    _, token = create_token(actor=Actor(channel="bench"), username=USER, name="bench")
    return token


def in_process(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, float]]:
    """The page through the whole Django stack in this process, with this thread's
    CPU time: what a request costs when it does not wait for a core."""
    from django.test import Client

    from recordroom.accounts.models import User
    from recordroom.web.middleware import SESSION_MFA_OK

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=USER))
    session = client.session
    session[SESSION_MFA_OK] = True
    session.save()
    wall, cpu = [], []
    for i in range(args.warmup + args.requests):
        start, start_cpu = time.perf_counter(), time.thread_time()
        got = client.get("/inbox/")
        if got.status_code != 200 or b"inbox-patient" not in got.content:
            raise SystemExit(f"the inbox page answered {got.status_code}")
        if i >= args.warmup:
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return _common.percentiles(wall), _common.percentiles(cpu)


def sign_in(conn: http.client.HTTPConnection) -> str:
    """The login form, as a browser fills it: the session's cookie header."""
    conn.request("GET", "/login")
    resp = conn.getresponse()
    html = resp.read().decode()
    csrf = _cookie(resp, "csrftoken")
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not csrf or form_token is None:
        raise SystemExit("the login page gave no CSRF token")
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": form_token.group(1),
                                   "username": USER, "password": PASSWORD})  # fmt: skip
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf}", "Referer": f"http://{conn.host}:{conn.port}/login",
    })  # fmt: skip
    resp = conn.getresponse()
    resp.read()
    session = _cookie(resp, "sessionid") or _cookie(resp, "recordroom_session")
    if resp.status != 302 or not session:
        raise SystemExit(f"sign-in failed: {resp.status}")
    name = "sessionid" if _cookie(resp, "sessionid") else "recordroom_session"
    return f"csrftoken={csrf}; {name}={session}"


def _cookie(resp: http.client.HTTPResponse, name: str) -> str:
    for header in resp.headers.get_all("Set-Cookie") or []:
        key, _, rest = header.partition("=")
        if key.strip() == name:
            return rest.split(";", 1)[0]
    return ""


def _run(conn, path, headers, args) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(args.warmup + args.requests):
        start = time.perf_counter()
        conn.request("GET", path, headers={**headers, "Connection": "keep-alive"})
        resp = conn.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - start) * 1000
        if resp.status != 200 or (path == "/inbox/" and b"inbox-patient" not in data):
            raise SystemExit(f"GET {path} answered {resp.status}: {data[:300]!r}")
        if i >= args.warmup:
            samples.append(ms)
    return _common.percentiles(samples)


if __name__ == "__main__":
    main()
