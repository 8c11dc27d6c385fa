"""python -m bench run: measure the seeded organisation and print the table.

1. Appends per second through consents.services.consent_record (one Decision per call), with one
   writer and with several concurrent writers (threads, each on its own database connection).
2. ledger_verify_chain over the whole organisation, in a child process: OK or BROKEN, time and
   peak memory (ru_maxrss of that process).
3. p50/p95/max of pages through django.test.Client, logged in as the organisation's DPO, and of
   the ConsentState lookup of one (subject, purpose).
4. EXPLAIN (ANALYZE) of the queries the register and the searches ran: index or sequential
   scan, and the time PostgreSQL spent.
"""

import datetime
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from accounts.models import Organisation, User
from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import (
    Action,
    Channel,
    ConsentState,
    DataSubject,
    LedgerHead,
    NoticeVersion,
    Purpose,
)

from .explain import explain_rows
from .report import peak_rss_mb, percentile, summary_ms, table
from .seed import dpo_email
from .verify import HASHES, LINKS

WARMUP = 3


class Fixture:
    """What the measurements need from the seeded organisation."""

    def __init__(self, slug: str):
        self.organisation = Organisation.objects.get(slug=slug)
        self.dpo = User.objects.get(email=dpo_email(slug))
        self.purposes = list(Purpose.objects.filter(organisation=self.organisation).order_by("pk"))
        self.notices = {
            n.language: n
            for n in NoticeVersion.objects.filter(organisation=self.organisation).published()
        }
        self.rng = random.Random(20260)

    def sample_subject_ids(self, count: int) -> list[int]:
        return self._sample("id", count)

    def sample_phones(self, count: int) -> list[str]:
        """Numbers (E.164) of people in normal use, drawn at random."""
        return self._sample("phone", count)

    def _sample(self, column: str, count: int) -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column} FROM consents_datasubject"  # noqa: S608 (our column names)
                " WHERE organisation_id = %s AND status = %s ORDER BY random() LIMIT %s",
                [self.organisation.pk, DataSubject.Status.ACTIVE.value, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def sample_states(self, count: int) -> list[tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT subject_id, purpose_id FROM consents_consentstate"
                " WHERE organisation_id = %s ORDER BY random() LIMIT %s",
                [self.organisation.pk, count],
            )
            return list(cursor.fetchall())


def run(
    *,
    slug: str,
    appends: int,
    writers: int,
    runs: int,
    verify: bool,
    any_database: bool,
    log,
) -> int:
    organisation = Organisation.objects.filter(slug=slug).first()
    head = LedgerHead.objects.filter(organisation=organisation).first() if organisation else None
    if head is None or head.sequence == 0:
        log(f"run: organisation {slug!r} has no ledger: run `python -m bench seed` first")
        return 2
    fixture = Fixture(slug)
    started = time.monotonic()
    rows = []
    one, rate_one, cost_one = _appends(fixture, appends=appends, writers=1, log=log)
    many, rate_many, _cost = _appends(fixture, appends=appends, writers=writers, log=log)
    keyed, rate_keyed, _cost = _appends(
        fixture, appends=appends, writers=writers, log=log, keyed=True
    )
    raw_one, raw_rate_one, raw_cost = _raw_appends(fixture, appends=appends, writers=1, log=log)
    raw_many, raw_rate_many, _cost = _raw_appends(
        fixture, appends=appends, writers=writers, log=log
    )
    rows += one + many + keyed + raw_one + raw_many
    verification = _verify(slug, any_database, log) if verify else None
    if verification is not None:
        rows.append(verification["row"])
    ratios = [
        [
            "append, 1 writer (consent_record)",
            f"{rate_one:,.0f}/s",
            f"raw INSERT+COMMIT: {raw_rate_one:,.0f}/s",
            f"{rate_one / raw_rate_one:.2f}x",
            ">= 0.5x raw",
        ],
        [
            f"append, {writers} writers on one organisation",
            f"{rate_many:,.0f}/s",
            f"1 writer: {rate_one:,.0f}/s (raw {writers} writers: "
            f"{raw_rate_many / raw_rate_one:.2f}x raw 1)",
            f"{rate_many / rate_one:.2f}x",
            ">= 1.0x one writer",
        ],
        [
            "  the same, every act with an idempotency key (as the capture form sends)",
            f"{rate_keyed:,.0f}/s",
            f"1 writer: {rate_one:,.0f}/s",
            f"{rate_keyed / rate_one:.2f}x",
            ">= 1.0x one writer",
        ],
    ]
    if verification is not None:
        result = verification["result"]
        ratios.append(
            [
                f"verify {result['events_checked']:,} events",
                f"{result['seconds']:.2f} s",
                f"hashlib SHA-256 over the same {result['hashlib_mb']:,.0f} MB: "
                f"{result['hashlib_seconds']:.2f} s",
                f"{result['hashlib_seconds'] / result['seconds']:.2f}x hashlib rate",
                "< 5 s at 1M, >= 0.5x",
            ]
        )
    certificate_rows, certificate_ratio = _certificates(fixture, runs=max(9, runs // 5), log=log)
    rows += certificate_rows
    ratios.append(certificate_ratio)
    rows += _pages(fixture, runs=runs, log=log)
    plans = _plans(fixture)

    print(header(fixture))
    print()
    print(table(["measure", "runs", "p50 ms", "p95 ms", "max ms", "result"], rows, left=(0, 5)))
    print()
    print("Each measure beside its reference (same run)")
    print(table(["measure", "now", "reference", "ratio", "goal"], ratios, left=(0, 1, 2, 4)))
    print()
    print(_append_costs(cost_one, raw_cost))
    if verification is not None:
        print()
        print(_verify_costs(verification["result"]))
    print()
    print("EXPLAIN (ANALYZE) of the queries these pages ran on the large tables")
    print(table(["page", "query", "plan", "ms"], plans, left=(0, 1, 2)))
    log(f"run: done in {time.monotonic() - started:.0f} s")
    return 0 if verification is None or verification["ok"] else 1


def _append_costs(ours: dict, raw: dict) -> str:
    """Where one writer's append goes, beside the raw row: the server's own time for it (what
    no client can save) and the WAL it writes (each page first changed since a checkpoint goes
    into the WAL whole: a ledger append touches pages all over two tables and their indexes)."""
    rows = [
        [
            label,
            f"{c['wall_ms']:.2f}",
            f"{c['db_ms']:.2f}",
            f"{c['wall_ms'] - c['db_ms']:.2f}",
            f"{c['wal_kb']:.1f}",
            f"{c['fpi']:.1f}",
        ]
        for label, c in (("append via consent_record", ours), ("raw INSERT+COMMIT", raw))
    ]
    best = raw["wall_ms"] / ours["db_ms"] if ours["db_ms"] else float("inf")
    return (
        "Where one writer's time goes, per append (pg_stat_database.active_time, pg_stat_wal)\n"
        + table(
            ["measure", "wall ms", "database ms", "client ms", "WAL kB", "full pages"],
            rows,
        )
        + f"\nWith no client time at all, the database's {ours['db_ms']:.2f} ms per append would"
        f" allow {best:.2f}x raw."
    )


def _verify_costs(result: dict) -> str:
    """Where verification's time goes, beside what the database needs just to read and hash
    the same texts: the floor for any verification that checks every hash in the database."""
    rows = [[label, f"{seconds:.2f}"] for label, seconds in result["floors"].items()]
    rows.append(["hashlib SHA-256, in memory (the reference)", f"{result['hashlib_seconds']:.2f}"])
    links, hashes = result["floors"][LINKS], result["floors"][HASHES]
    return (
        "Where verification's time goes, and its floor\n"
        + table(["step", "s"], rows)
        + f"\nThe links and the hashes alone, with no column checked, take {links + hashes:.2f} s;"
        f" 0.5x the hashlib rate allows {2 * result['hashlib_seconds']:.2f} s."
    )


def header(fixture: Fixture) -> str:
    """What was measured, and on what: figures from a busy machine mean little without its load."""
    org = fixture.organisation
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
        # The settings an append's cost depends on (full-page images, the commit's flush).
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            [list(SERVER_SETTINGS)],
        )
        settings_shown = ", ".join(
            f"{name}={_setting(value, unit)}" for name, value, unit in cursor.fetchall()
        )
    counts = {
        "subjects": DataSubject.objects.filter(organisation=org).count(),
        "events": LedgerHead.objects.get(organisation=org).sequence,
        "states": ConsentState.objects.filter(organisation=org).count(),
    }
    return (
        f"Constancia bench {datetime.date.today():%Y-%m-%d}: organisation {org.slug!r}, "
        + ", ".join(f"{value:,} {name}" for name, value in counts.items())
        + f"; PostgreSQL {server}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        + "load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
        + f"\nPostgreSQL settings: {settings_shown}"
    )


SERVER_SETTINGS = (
    "checkpoint_timeout",
    "max_wal_size",
    "shared_buffers",
    "synchronous_commit",
    "wal_compression",
)


def _setting(value: str, unit: str | None) -> str:
    """A pg_settings value in the units postgresql.conf takes (8kB pages as MB, and so on)."""
    if unit == "8kB":
        return f"{int(value) * 8 // 1024}MB"
    if unit == "MB":
        return f"{value}MB"
    return f"{value}{unit or ''}"


# --- appends ------------------------------------------------------------------------------------


def _server_counters() -> dict[str, float]:
    """What the server has done so far: the time this database's backends spent running
    statements (pg_stat_database.active_time, ms) and the WAL written (pg_stat_wal). Read after
    the writers' connections are closed: a backend hands in its figures as it exits."""
    with connection.cursor() as cursor:
        for _ in range(50):  # the writers' backends exit just after their connections close
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.02)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"
        )
        (active_ms,) = cursor.fetchone()
        cursor.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")
        wal_bytes, wal_fpi = cursor.fetchone()
    return {"active_ms": float(active_ms), "wal_bytes": float(wal_bytes), "fpi": float(wal_fpi)}


def _run_writers(
    threads: list[threading.Thread], barrier: threading.Barrier, count: int
) -> tuple[float, dict[str, float]]:
    """Start the writers, release them together and wait for them: the seconds they took, and
    per append (or row) the wall time, the server's time, the WAL and the full-page images."""
    for thread in threads:
        thread.start()
    before = _server_counters()
    barrier.wait()
    begun = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begun
    after = _server_counters()
    return elapsed, {
        "wall_ms": elapsed * 1000 / count,
        "db_ms": (after["active_ms"] - before["active_ms"]) / count,
        "wal_kb": (after["wal_bytes"] - before["wal_bytes"]) / 1024 / count,
        "fpi": (after["fpi"] - before["fpi"]) / count,
    }


def _appends(
    fixture: Fixture, *, appends: int, writers: int, log, keyed: bool = False
) -> tuple[list, float, dict]:
    """One Decision per consent_record call; the writers share the load and the chain head.
    ``keyed``: each act carries an idempotency key never used before, as a capture does."""
    org = fixture.organisation
    pool = DataSubject.objects.in_bulk(fixture.sample_subject_ids(min(appends, 5000)))
    subjects = list(pool.values())
    jobs = []
    for index in range(appends):
        subject = subjects[index % len(subjects)]
        purpose = fixture.rng.choice(fixture.purposes)
        action = Action.GRANTED if fixture.rng.random() < 0.8 else Action.REFUSED
        notice = fixture.notices[subject.preferred_language]
        jobs.append((subject, Decision(purpose=purpose, action=action, notice=notice)))
    # A few appends outside the clock: imports, caches and the first plans are not the figure.
    for subject, decision in jobs[:WARMUP]:
        services.consent_record(
            organisation=org,
            act=ConsentAct(subject=subject, decisions=[decision], channel=Channel.WHATSAPP),
        )

    run_key = uuid.uuid4().hex[:12]  # keys of earlier runs are on record: never reuse one
    numbered = list(enumerate(jobs))
    shares = [numbered[n::writers] for n in range(writers)]
    latencies: list[list[float]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + 1)

    def writer(share, times):
        try:
            connection.ensure_connection()
            barrier.wait()
            for number, (subject, decision) in share:
                begun = time.perf_counter()
                services.consent_record(
                    organisation=org,
                    act=ConsentAct(
                        subject=subject,
                        decisions=[decision],
                        channel=Channel.WHATSAPP,
                        recorded_by=fixture.dpo,
                        idempotency_key=f"bench-{run_key}-{number}" if keyed else "",
                    ),
                )
                times.append(time.perf_counter() - begun)
        except BaseException as error:  # reported below: a lost writer must not look fast
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=(share, times), name=f"writer-{n}")
        for n, (share, times) in enumerate(zip(shares, latencies, strict=True))
    ]
    elapsed, cost = _run_writers(threads, barrier, appends)
    if errors:
        raise RuntimeError(f"{len(errors)} writer(s) failed") from errors[0]
    done = [t for times in latencies for t in times]
    rate = len(done) / elapsed
    label = "writer" if writers == 1 else "concurrent writers"
    label += ", keyed acts" if keyed else ""
    log(f"run: {len(done)} appends with {writers} {label}: {rate:.0f}/s")
    return (
        [
            [f"append via consent_record, {writers} {label}", len(done), *summary_ms(done)]
            + [f"{rate:,.0f} appends/s"]
        ],
        rate,
        cost,
    )


RAW_TABLE = "bench_raw_append"


def _raw_appends(fixture: Fixture, *, appends: int, writers: int, log) -> tuple[list, float, dict]:
    """The reference for appends: what the database does alone. Each writer, on a psycopg
    connection of its own, INSERTs a copy of a ledger row (same columns, same width) into a
    table like the ledger's (its indexes included, no triggers) and COMMITs, once per append."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        cursor.execute(
            f"CREATE TABLE {RAW_TABLE} (LIKE consents_consentevent INCLUDING DEFAULTS"
            " INCLUDING INDEXES INCLUDING IDENTITY)"
        )
        cursor.execute(
            "SELECT * FROM consents_consentevent WHERE organisation_id = %s"
            " ORDER BY sequence DESC LIMIT 1",
            [fixture.organisation.pk],
        )
        names = [column.name for column in cursor.description if column.name != "id"]
        template = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
    # Sequence and idempotency key vary, so the unique indexes see distinct rows.
    columns, marks = ", ".join(names), ", ".join(["%s"] * len(names))
    insert = f"INSERT INTO {RAW_TABLE} ({columns}) VALUES ({marks})"  # noqa: S608 (the table's own columns)
    params = connection.get_connection_params()
    latencies: list[list[float]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + 1)

    def writer(number, times):
        raw = connection.get_new_connection(params)
        try:
            raw.autocommit = False
            barrier.wait()
            with raw.cursor() as cursor:
                for index in range(number, appends, writers):
                    row = {**template, "sequence": index + 1, "idempotency_key": f"raw-{index}"}
                    begun = time.perf_counter()
                    cursor.execute(insert, [_raw_value(row[name]) for name in names])
                    raw.commit()
                    times.append(time.perf_counter() - begun)
        except BaseException as error:  # reported below: a lost writer must not look fast
            errors.append(error)
            barrier.abort()
        finally:
            raw.close()

    threads = [
        threading.Thread(target=writer, args=(n, latencies[n]), name=f"raw-{n}")
        for n in range(writers)
    ]
    elapsed, cost = _run_writers(threads, barrier, appends)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    if errors:
        raise RuntimeError(f"{len(errors)} raw writer(s) failed") from errors[0]
    done = [t for times in latencies for t in times]
    rate = len(done) / elapsed
    label = "writer" if writers == 1 else "concurrent writers"
    log(f"run: {len(done)} raw INSERT+COMMIT with {writers} {label}: {rate:.0f}/s")
    return (
        [
            [f"raw psycopg INSERT+COMMIT, {writers} {label}", len(done), *summary_ms(done)]
            + [f"{rate:,.0f} rows/s (reference)"]
        ],
        rate,
        cost,
    )


def _raw_value(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, list | dict) else value


# --- the whole chain ----------------------------------------------------------------------------


def _verify(slug: str, any_database: bool, log) -> dict:
    command = [sys.executable, "-m", "bench", "verify", "--org", slug]
    if any_database:
        command.append("--any-database")
    log("run: verifying the whole chain in a child process")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"bench verify failed:\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    status = "OK" if result["ok"] else f"BROKEN at #{result['broken_sequence']}"
    log(f"run: chain {status}, {result['events_checked']:,} events in {result['seconds']:.1f} s")
    ms = f"{result['seconds'] * 1000:,.0f}"
    grown = result["rss_peak_mb"] - result["rss_baseline_mb"]
    return {
        "ok": result["ok"],
        "result": result,
        "row": [
            f"ledger_verify_chain, {result['events_checked']:,} events",
            1,
            ms,
            ms,
            ms,
            f"{status}, {result['events_checked'] / result['seconds']:,.0f} events/s, peak RSS "
            f"{result['rss_peak_mb']:.0f} MB (+{grown:.0f})",
        ],
    }


# --- pages and lookups --------------------------------------------------------------------------


def spoken_phone(subject: DataSubject) -> str:
    """The number as someone types it from an old list: '0034 612 345 678'."""
    national = str(subject.phone.national_number)
    return f"00{subject.phone.country_code} {national[:3]} {national[3:6]} {national[6:]}"


def _urls(fixture: Fixture, count: int) -> dict[str, list[str]]:
    """Per measured page, the URLs of its runs (a different person or purpose each time)."""
    slug = fixture.organisation.slug
    register = reverse("consents:register", kwargs={"org_slug": slug})
    subjects = reverse("consents:subjects", kwargs={"org_slug": slug})
    people = list(DataSubject.objects.in_bulk(fixture.sample_subject_ids(count)).values())
    while len(people) < count:
        people += people
    people = people[:count]
    surnames = ["García", "Navarro", "Prieto", "Iglesias", "Cano"]
    return {
        "register, first page": [register] * count,
        "register, purpose + state": [
            register
            + "?"
            + urlencode(
                {"purpose": fixture.purposes[n % len(fixture.purposes)].pk, "action": "granted"}
            )
            for n in range(count)
        ],
        "register, ?q=phone '0034 6xx ...'": [
            register + "?" + urlencode({"q": spoken_phone(p)}) for p in people
        ],
        "people, ?q=phone '0034 6xx ...'": [
            subjects + "?" + urlencode({"q": spoken_phone(p)}) for p in people
        ],
        "people, ?q=surname (icontains)": [
            subjects + "?" + urlencode({"q": surnames[n % len(surnames)]}) for n in range(count)
        ],
        "subject page": [
            reverse("consents:subject", kwargs={"org_slug": slug, "pk": p.pk}) for p in people
        ],
    }


def _client(fixture: Fixture) -> Client:
    client = Client()
    client.force_login(fixture.dpo)
    return client


def _test_host():
    # DEBUG off while measuring: no query log kept per request, as in production.
    return override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], DEBUG=False)


def _certificates(fixture: Fixture, *, runs: int, log) -> tuple[list, list]:
    """One person's signed certificate (certificate_pdf, with one chain verification shared as
    a pack shares it) beside a bare WeasyPrint render of the same HTML: no PDF/A, attachment,
    fonts of our own or signature."""
    import weasyprint

    from consents.services import ledger_verify_chain
    from evidence import certificates, signing

    log(f"run: {runs} certificates and as many bare renders of their HTML")
    verification = ledger_verify_chain(organisation=fixture.organisation)
    people = DataSubject.objects.in_bulk(fixture.sample_subject_ids(runs + 1))
    subjects = list(people.values())
    pages = []
    real = signing.render_signed_pdf

    def keep_html(**kwargs):
        pages.append(kwargs["html"])
        return real(**kwargs)

    signing.render_signed_pdf = keep_html
    # Each certificate, then the bare render of its own HTML, in turn: this VM's speed drifts
    # within a minute, and a ratio of two phases run one after the other measured the drift.
    # The ratio is the median of each person's pair: certificates run from 2 to 10 pages, and
    # the medians of two separate lists can set a long certificate against a short render.
    made, bare = [], []

    def certificate(subject):
        started = time.perf_counter()
        certificates.certificate_pdf(subject=subject, verification=verification)
        made.append(time.perf_counter() - started)

    def bare_render():
        started = time.perf_counter()
        weasyprint.HTML(string=pages[-1]).write_pdf()
        bare.append(time.perf_counter() - started)

    try:
        certificates.certificate_pdf(subject=subjects[0], verification=verification)  # warm up
        weasyprint.HTML(string=pages[0]).write_pdf()
        for subject in subjects[1 : runs + 1]:
            certificate(subject)
            bare_render()
    finally:
        signing.render_signed_pdf = real
    made_p50, bare_p50 = percentile(made, 0.5), percentile(bare, 0.5)
    paired = percentile([m / b for m, b in zip(made, bare, strict=True)], 0.5)
    rows = [
        ["certificate_pdf, one person (signed)", str(len(made)), *summary_ms(made), ""],
        ["bare WeasyPrint render, same HTML", str(len(bare)), *summary_ms(bare), "(reference)"],
    ]
    ratio = [
        "certificate, one person",
        f"{made_p50:.2f} s",
        f"bare WeasyPrint render: {bare_p50:.2f} s",
        f"{paired:.2f}x (median per person)",
        "<= 1.5x bare render",
    ]
    return rows, ratio


def _pages(fixture: Fixture, *, runs: int, log) -> list[list[str]]:
    rows = []
    client = _client(fixture)
    with _test_host():
        for label, urls in _urls(fixture, runs + WARMUP).items():
            times = []
            for index, url in enumerate(urls):
                begun = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - begun
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url} answered {response.status_code}")
                if index >= WARMUP:
                    times.append(elapsed)
            log(f"run: {label}: p50 {summary_ms(times)[0]} ms")
            rows.append([f"GET {label}", len(times), *summary_ms(times), ""])
    times = []
    for subject_id, purpose_id in fixture.sample_states(runs + WARMUP):
        begun = time.perf_counter()
        ConsentState.objects.get(subject=subject_id, purpose=purpose_id)
        times.append(time.perf_counter() - begun)
    times = times[WARMUP:]
    rows.append(["ConsentState.objects.get(subject, purpose)", len(times), *summary_ms(times), ""])
    rows.append(["peak RSS of this process", "", "", "", "", f"{peak_rss_mb():.0f} MB"])
    return rows


def _plans(fixture: Fixture) -> list[list[str]]:
    """EXPLAIN (ANALYZE) the queries one request of each page ran, on the large tables."""
    urls = _urls(fixture, 1)
    wanted = [
        "register, first page",
        "register, purpose + state",
        "register, ?q=phone '0034 6xx ...'",
        "people, ?q=phone '0034 6xx ...'",
        "people, ?q=surname (icontains)",
    ]
    client = _client(fixture)
    rows = []
    with _test_host():
        for label in wanted:
            with CaptureQueriesContext(connection) as captured:
                client.get(urls[label][0])
            rows += explain_rows(label, [q["sql"] for q in captured.captured_queries])
    # The two statements ledger_verify_chain runs on PostgreSQL, with JIT off as it runs them.
    org = fixture.organisation.pk
    end = LedgerHead.objects.get(organisation=fixture.organisation).sequence
    with connection.cursor() as cursor:
        links = cursor.cursor.mogrify(services._LINKS_SQL, {"org": org, "genesis": "0" * 64})
        content = cursor.cursor.mogrify(services._CONTENT_SQL, {"org": org, "end": end})
        cursor.execute("SET jit = off")
    # Quoted as Django writes it, which explain_rows looks for to pick the large tables.
    links, content = (
        sql.replace("consents_consentevent", '"consents_consentevent"') for sql in (links, content)
    )
    try:
        rows += explain_rows("ledger_verify_chain, links", [links])
        rows += explain_rows("ledger_verify_chain, content", [content])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
    return rows
