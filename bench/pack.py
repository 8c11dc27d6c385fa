"""python -m bench pack: export a whole organisation's evidence pack and measure it.

The issue's target: a pack of 10,000 subjects and 100,000 events exports on the 2-core machine
in a few minutes with a peak memory under 1 GB, streamed to disk.

1. Seed organisation ``bench-pack`` (bench.seed, so the same ledger, states and valid chain as
   the large register), with a few hundred proof files of about 200 KB attached to events.
2. Build the pack with evidence.packs.build_pack, the function the export job runs, in a child
   process (``python -m bench pack-build``) so that its peak RSS is that export's alone. The
   child times each phase by watching the members the pack opens and the calls it makes.
3. Extract the ZIP and run ``sha256sum -c SHA256SUMS`` on it, as the pack's reader is told to.
"""

import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import connection

from accounts.models import Organisation
from consents.models import ConsentEvent, DataSubject, LedgerHead, ProofFile

from . import seed
from .report import current_rss_mb, table

# Phases in the order build_pack runs them; each starts at the mark of the same name.
PHASES = {
    "start": "count + ledger_verify_checked",
    "records": "records.csv (+ records.json to a temp file)",
    "records.json": "records.json copied in",
    "subjects": "subjects.csv",
    "proofs": "proofs/ (ProofFile query + copies)",
    "certificates": "certificates/ (certificate_pdf each)",
    "signer": "signer-certificate.pem + VERIFY.txt",
    "summary": "summary.pdf (table, render, sign)",
    "manifest": "manifest.json + SHA256SUMS + close",
}


def _memory_mb() -> tuple[float, float]:
    """(RSS now, peak RSS so far) of this process, from /proc/self/status (VmRSS, VmHWM)."""
    values = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, amount, _unit = line.split()
                    values[key] = int(amount) / 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return current_rss_mb(), peak
    return values["VmRSS:"], values["VmHWM:"]


class Probe:
    """Marks the phases of one build_pack call and times the heavy calls inside each phase.

    It wraps what build_pack looks up at call time (HashingZip.open and close, the functions it
    imports inside its body, ledger_verify_checked in the modules that call it) and watches the
    queries for the one on ProofFile, so build_pack itself runs unchanged."""

    def __init__(self):
        self.marks: list[dict] = []
        self.calls: dict[str, dict[str, list[float]]] = {}
        self.phase = None

    def mark(self, phase: str) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        rss, peak = _memory_mb()
        self.marks.append({"phase": phase, "t": time.perf_counter(), "rss": rss, "peak": peak})

    def timed(self, what: str, function):
        def wrapper(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - begun
                self.calls.setdefault(self.phase, {}).setdefault(what, []).append(spent)

        return wrapper

    def install(self):
        from evidence import certificates, packs, signing
        from evidence import pdf as evidence_pdf

        probe = self
        opened = packs.HashingZip.open
        closed = packs._HashingWriter.close

        def open_member(zip_, name):
            if name == "records.csv":
                probe.mark("records")
            elif name == "records.json":
                probe.mark("records.json")
            elif name == "subjects.csv":
                probe.mark("subjects")
            elif name == "signer-certificate.pem":
                probe.mark("signer")
            elif name == "summary.pdf":
                probe.mark("manifest")
            return opened(zip_, name)

        def close_member(writer):
            if writer.name == "VERIFY.txt" and not writer.closed:
                closed(writer)
                probe.mark("summary")
                return
            closed(writer)

        def certificate_pdf(*args, **kwargs):
            probe.mark("certificates")
            return render_certificate(*args, **kwargs)

        def watch_queries(execute, sql, params, many, context):
            if probe.phase == "subjects" and '"consents_prooffile"' in sql:
                probe.mark("proofs")
            return execute(sql, params, many, context)

        render_certificate = certificates.certificate_pdf
        packs.HashingZip.open = open_member
        packs._HashingWriter.close = close_member
        certificates.certificate_pdf = certificate_pdf
        for module in (packs, certificates):
            module.ledger_verify_checked = self.timed("verify", module.ledger_verify_checked)
        evidence_pdf.render_pdf = self.timed("render", evidence_pdf.render_pdf)
        signing.sign_pdf = self.timed("sign", signing.sign_pdf)
        return connection.execute_wrapper(watch_queries)


def build_json(*, slug: str, out: str) -> str:
    """Run build_pack for the whole organisation into ``out``; JSON of what it cost."""
    from django.test.utils import override_settings

    from evidence.packs import PackScope, build_pack

    organisation = Organisation.objects.get(slug=slug)
    probe = Probe()
    started_rss = _memory_mb()[0]

    def progress(done, total):
        if done % 20_000 == 0 or done == total:
            print(f"pack-build: {done:,} / {total:,} events", file=sys.stderr, flush=True)

    # DEBUG off, as in the worker: Django would otherwise keep the last 9,000 queries.
    with override_settings(DEBUG=False), probe.install():
        begun = time.perf_counter()
        probe.mark("start")
        manifest = build_pack(
            organisation=organisation, scope=PackScope(), path=out, progress=progress
        )
        probe.mark("end")
        seconds = time.perf_counter() - begun
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return json.dumps(
        {
            "seconds": seconds,
            "cpu_user": usage.ru_utime,
            "cpu_system": usage.ru_stime,
            "rss_start_mb": started_rss,
            "marks": probe.marks,
            "calls": probe.calls,
            "events": manifest["events"],
            "subjects": manifest["subjects"],
            "ledger_ok": manifest["ledger"]["ok"],
            "files": [(f["name"], f["size"]) for f in manifest["files"]],
            "certificate_limit": settings.PACK_CERTIFICATE_LIMIT,
        }
    )


def pack(
    *,
    slug: str,
    subjects: int,
    events: int,
    proofs: int,
    keep: bool,
    any_database: bool,
    log,
) -> int:
    seed.seed(slug=slug, subjects=subjects, events=events, proofs=proofs, log=log)
    header = _header(slug)
    directory = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    path = directory / f"evidence-pack-{slug}.zip"
    try:
        built = _build(slug, path, any_database, log)
        checked = _check(path, log)
        print(header)
        print()
        print(_table(built, checked))
        print()
        print(_calls_table(built))
    finally:
        if keep:
            log(f"pack: the pack is kept at {path}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0 if checked["ok"] and built["ledger_ok"] else 1


def _header(slug: str) -> str:
    organisation = Organisation.objects.get(slug=slug)
    proof_files = ProofFile.objects.filter(organisation=organisation)
    proof_bytes = sum(proof_files.values_list("size", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    counts = {
        "subjects": DataSubject.objects.filter(organisation=organisation).count(),
        "events": LedgerHead.objects.get(organisation=organisation).sequence,
        "events with a proof file": ConsentEvent.objects.filter(
            organisation=organisation, proof__files__isnull=False
        ).count(),
    }
    return (
        f"Constancia bench pack {datetime.date.today():%Y-%m-%d}: organisation {slug!r}, "
        + ", ".join(f"{value:,} {name}" for name, value in counts.items())
        + f" ({proof_files.count():,} files, {proof_bytes / 1e6:.0f} MB); "
        + f"PACK_CERTIFICATE_LIMIT {settings.PACK_CERTIFICATE_LIMIT}; PostgreSQL {server}, "
        + f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
    )


def _build(slug: str, path: Path, any_database: bool, log) -> dict:
    command = [sys.executable, "-m", "bench", "pack-build", "--org", slug, "--out", str(path)]
    if any_database:
        command.append("--any-database")
    log(f"pack: building the pack of {slug!r} in a child process")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"bench pack-build failed with exit status {completed.returncode}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The largest resident set of any child this process waited for: the build is the only one.
    result["peak_rss_mb"] = after.ru_maxrss / 1024
    result["zip_bytes"] = path.stat().st_size
    log(f"pack: built in {wall:.0f} s, peak RSS {result['peak_rss_mb']:.0f} MB")
    return result


def _check(path: Path, log) -> dict:
    """Extract the pack and check it with sha256sum -c, as VERIFY.txt tells its reader to."""
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-pack-check-") as directory:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(directory)
            members = set(archive.namelist())
        completed = subprocess.run(
            ["sha256sum", "-c", "--strict", "SHA256SUMS"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
        )
    listed = [line for line in completed.stdout.splitlines() if line]
    passed = [line for line in listed if line.endswith(": OK")]
    unlisted = members - {line.rsplit(": ", 1)[0] for line in listed} - {"SHA256SUMS"}
    ok = completed.returncode == 0 and len(passed) == len(listed) and not unlisted
    seconds = time.perf_counter() - begun
    result = f"OK, {len(passed):,} files" if ok else f"FAILED: {completed.stderr.strip()[:200]}"
    if unlisted:
        result += f"; not in SHA256SUMS: {', '.join(sorted(unlisted)[:5])}"
    log(f"pack: sha256sum -c SHA256SUMS: {result} ({seconds:.1f} s)")
    return {"ok": ok, "seconds": seconds, "result": result}


def _phases(built: dict) -> list[dict]:
    marks = built["marks"]
    phases = []
    for mark, following in zip(marks, marks[1:], strict=False):
        phases.append(
            {
                "phase": mark["phase"],
                "seconds": following["t"] - mark["t"],
                "peak": following["peak"],
                "grew": following["peak"] > mark["peak"] + 1,
                "rss": following["rss"],
            }
        )
    return phases


def _table(built: dict, checked: dict) -> str:
    files = built["files"]
    count = {
        prefix: sum(1 for name, _size in files if name.startswith(prefix))
        for prefix in ("proofs/", "certificates/")
    }
    proof_mb = sum(size for name, size in files if name.startswith("proofs/")) / 1e6
    mb = 1e6
    rows = [
        [
            f"build_pack, whole organisation ({built['events']:,} events, "
            f"{built['subjects']:,} subjects)",
            f"{built['wall']:.1f}",
            f"{built['peak_rss_mb']:.0f}",
            f"CPU {built['cpu']:.0f} s ({built['cpu'] / built['wall']:.0%} of one core); "
            f"ZIP {built['zip_bytes'] / mb:.0f} MB, {len(files) + 1:,} files; "
            f"ledger {'OK' if built['ledger_ok'] else 'BROKEN'}",
        ]
    ]
    notes = {
        "proofs": f"{count['proofs/']:,} files, {proof_mb:.0f} MB",
        "certificates": f"{count['certificates/']:,} rendered "
        f"(PACK_CERTIFICATE_LIMIT {built['certificate_limit']})",
    }
    for phase in _phases(built):
        label = PHASES.get(phase["phase"], phase["phase"])
        note = notes.get(phase["phase"], "")
        if phase["grew"]:
            note = (note + "; " if note else "") + "peak RSS rose here"
        rows.append([f"  {label}", f"{phase['seconds']:.1f}", f"{phase['peak']:.0f}", note.strip()])
    rows.append(
        ["sha256sum -c SHA256SUMS (extracted)", f"{checked['seconds']:.1f}", "", checked["result"]]
    )
    return table(["measure", "seconds", "peak RSS MB", "result"], rows, left=(0, 3))


def _calls_table(built: dict) -> str:
    """Where each phase's time went: the calls it made to the heavy functions."""
    rows = []
    for phase, calls in built["calls"].items():
        for what, times in calls.items():
            rows.append(
                [
                    PHASES.get(phase, phase),
                    {
                        "verify": "ledger_verify_checked",
                        "render": "render_pdf (WeasyPrint)",
                        "sign": "sign_pdf (pyHanko)",
                    }[what],
                    f"{len(times):,}",
                    f"{sum(times):.1f}",
                    f"{sum(times) / len(times):.2f}",
                ]
            )
    return "Calls inside build_pack\n" + table(
        ["phase", "call", "calls", "seconds", "s each"], rows, left=(0, 1)
    )
