"""python -m bench api: the REST API through a real server, beside a bare Django view.

gunicorn (sync workers, as docker-compose.yml runs it) serves the project on a loopback port with
one extra route, a bare JSON view (bench/api_urls.py); client processes (bench/load.py) send the
requests. Measured in one run, on the seeded register:

1. the bare view, then GET /api/v1/consent-check/ for numbers of the register typed as people
   type them ("600 123 456", "0034 600...", "+34 600..."), each purpose in turn: requests per
   second, p50/p95/max; the ratio of the two rates;
2. POST /api/v1/consent-check/ with 1,000 numbers (a campaign list), one at a time;
3. POST /api/v1/events/: a consent of a person not yet on record (a new number), with an
   Idempotency-Key, as a web form or chatbot records it. These events stay in the ledger.

The key is made for the organisation's DPO at the start and revoked at the end (both audited).
Its rate limit is lifted for the server (API_RATE_PER_KEY); the throttle itself still runs, on
Redis when REDIS_URL is set.
"""

import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from api.scopes import Scope
from api.services import api_key_create, api_key_revoke

from .load import hammer
from .report import percentile, summary_ms, table
from .run import Fixture, header

HOST = "127.0.0.1"
BATCH = 1000
# Fides (ethyca/fides 2.x, its consent-request API) on this kind of machine: the figures.
FIDES = "Fides consent request: 22-26/s, p95 200-280 ms"


def api(
    *,
    slug: str,
    requests: int,
    concurrency: int,
    workers: int,
    batches: int,
    records: int,
    log,
) -> int:
    fixture = Fixture(slug)
    rng = random.Random(2026)
    phones = fixture.sample_phones(max(requests, batches * BATCH, 5000))
    codes = [purpose.code for purpose in fixture.purposes]
    key, plaintext = api_key_create(
        organisation=fixture.organisation,
        name="python -m bench api",
        scopes=list(Scope.values),
        user=fixture.dpo,
    )
    auth = {"Authorization": f"Bearer {plaintext}"}
    server = Server(workers=workers, log=log)
    try:
        server.start()
        checks = [
            ("GET", _check_path(_typed(phone, n), codes[n % len(codes)]), None, auth)
            for n, phone in enumerate(rng.sample(phones, min(requests, len(phones))))
        ]
        bare_calls = [("GET", "/bench/bare/", None, {})] * requests
        log(f"api: warming up {workers} workers")
        hammer(HOST, server.port, bare_calls[:200] + checks[:200], concurrency)

        log(f"api: bare view, {requests:,} requests, concurrency {concurrency}")
        bare = hammer(HOST, server.port, bare_calls, concurrency)
        log(f"api: consent check, {requests:,} requests, concurrency {concurrency}")
        check = hammer(HOST, server.port, checks, concurrency)
        check_answers = _allowed_share(server.port, checks[:200])

        log(f"api: batch check of {BATCH:,} numbers, {batches} times")
        batch_calls = []
        for n in range(batches):
            numbers = [_typed(phone, i) for i, phone in enumerate(rng.sample(phones, BATCH))]
            body = json.dumps({"purpose": codes[n % len(codes)], "phones": numbers}).encode()
            batch_calls.append(
                ("POST", "/api/v1/consent-check/", body, auth | JSON),
            )
        batch = hammer(HOST, server.port, batch_calls, 1)

        log(f"api: {records:,} consents of new people, concurrency {concurrency}")
        first = _new_numbers_from()
        record_calls = [
            (
                "POST",
                "/api/v1/events/",
                json.dumps(
                    {
                        "phone": f"71{first + n:07d}",
                        "full_name": f"Bench Person {first + n}",
                        "purposes": [codes[0]],
                        "channel": "whatsapp",
                        "quote": "Acepto recibir ofertas por WhatsApp",
                        "language": "es",
                    }
                ).encode(),
                auth | JSON | {"Idempotency-Key": f"bench-{first + n}"},
            )
            for n in range(records)
        ]
        record = hammer(HOST, server.port, record_calls, concurrency)
    finally:
        server.stop()
        api_key_revoke(key=key, user=fixture.dpo)

    rows = [
        _row("bare Django JSON view (same server)", bare, 200),
        _row("GET consent-check", check, 200, extra=check_answers),
        _row(f"POST consent-check, {BATCH:,} numbers", batch, 200, numbers=BATCH),
        _row("POST events, a new person's consent", record, 201, unit="persons"),
    ]
    check_rate, bare_rate = _rate(check), _rate(bare)
    check_p95 = percentile(check["times"], 0.95) * 1000
    record_p95 = percentile(record["times"], 0.95) * 1000
    ratios = [
        [
            "consent-check requests/s",
            f"{check_rate:,.0f}/s",
            f"bare view: {bare_rate:,.0f}/s",
            f"{check_rate / bare_rate:.2f}x",
            ">= 0.7x",
        ],
        ["consent-check p95", f"{check_p95:.1f} ms", "", "", "< 10 ms"],
        [
            "batch check, 1,000 numbers",
            f"{percentile(batch['times'], 0.5) * 1000:,.0f} ms p50",
            f"{BATCH * len(batch['times']) / batch['wall']:,.0f} numbers/s",
            "",
            "",
        ],
        [
            "record a new person's consent",
            f"{_rate(record):,.0f}/s, p95 {record_p95:.0f} ms",
            FIDES,
            f"{_rate(record) / 26:.1f}x Fides' best rate",
            "clearly ahead",
        ],
    ]
    print(header(fixture) + f"; gunicorn {workers} sync workers, concurrency {concurrency}")
    print()
    print(
        table(
            ["measure", "requests", "per s", "p50 ms", "p95 ms", "max ms", "result"],
            rows,
            left=(0, 6),
        )
    )
    print()
    print("Each measure beside its reference (same run)")
    print(table(["measure", "now", "reference", "ratio", "goal"], ratios, left=(0, 1, 2, 3, 4)))
    failed = any(row[-1].startswith("!") for row in rows)
    return 1 if failed else 0


JSON = {"Content-Type": "application/json"}


def _typed(e164: str, n: int) -> str:
    """A Spanish number as people type it: national with spaces, with 0034, or international."""
    national = e164.removeprefix("+34")
    spaced = f"{national[:3]} {national[3:6]} {national[6:]}"
    return (spaced, f"0034{national}", f"+34 {spaced}")[n % 3]


def _check_path(phone: str, code: str) -> str:
    return "/api/v1/consent-check/?" + urlencode({"phone": phone, "purpose": code})


def _new_numbers_from() -> int:
    """Numbers 71x xxx xxx no seeded person has (the seed's are 6xx), new at every run."""
    return (int(time.time()) % 1_000) * 10_000


def _allowed_share(port: int, calls: list) -> str:
    allowed = 0
    for _method, path, _body, headers in calls:
        request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback http)
            allowed += json.load(answer)["allowed"]
    return f"{allowed * 100 // len(calls)}% allowed"


def _rate(result: dict) -> float:
    return len(result["times"]) / result["wall"]


def _row(name: str, result: dict, expected: int, *, extra="", numbers=0, unit="") -> list:
    times, statuses = result["times"], result["statuses"]
    wrong = {status: count for status, count in statuses.items() if status != expected}
    said = [extra] if extra else []
    if numbers:
        said.append(f"{numbers * len(times) / result['wall']:,.0f} numbers/s")
    if unit:
        said.append(f"{_rate(result):,.1f} {unit}/s")
    if wrong:
        said.insert(
            0, "! answers " + ", ".join(f"{s}: {c}" for s, c in sorted(wrong.items(), key=str))
        )
    return [name, f"{len(times):,}", f"{_rate(result):,.0f}", *summary_ms(times), "; ".join(said)]


class Server:
    """gunicorn on a free loopback port, serving bench.api_settings."""

    def __init__(self, *, workers: int, log):
        self.workers, self.log = workers, log
        self.port = _free_port()
        self.process = None

    def start(self) -> None:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "bench.api_settings",
            "API_RATE_PER_KEY": str(10**9),
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        command += ["--workers", str(self.workers), "--bind", f"{HOST}:{self.port}"]
        command += ["--log-level", "warning"]
        self.log(f"api: starting {' '.join(command[2:])}")
        self.process = subprocess.Popen(
            command, env=env, cwd=Path(__file__).resolve().parent.parent
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/bench/bare/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
