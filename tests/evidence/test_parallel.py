"""A pack's certificates rendered in forked helpers (evidence.parallel): the same files, in the
same order, and none missing when a helper fails.

PostgreSQL only (helpers open their own connection; CI runs these). The forking runs in a fresh
process (tests/evidence/forked.py) on the test database: this one may hold other threads, from
which evidence.parallel rightly refuses to fork. The data it reads is committed
(transactional_db)."""

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from evidence import parallel
from evidence.signing import certificate_trust_roots, validate_pdf
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgresql(transactional_db):
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the forked rendering on PostgreSQL (DATABASE_URL).")
        pytest.skip("Forked helpers render only on PostgreSQL (set DATABASE_URL; CI does).")


def forked(*args) -> dict:
    """tests/evidence/forked.py on this test database; its JSON answer."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    done = subprocess.run(
        [sys.executable, "-m", "tests.evidence.forked", *map(str, args)],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in answer, answer
    return answer


def test_the_work_is_shared_and_comes_back_in_order(postgresql):
    answer = forked("share")

    results = answer["results"]
    assert [i for i, _text in results] == list(range(1, 11))
    assert all(text.startswith(f"{i}:") for i, text in results)
    pids = {int(text.split(":")[1]) for _i, text in results}
    assert answer["parent"] in pids and len(pids) == 3


def test_what_a_helper_fails_to_render_the_parent_renders(postgresql):
    assert forked("fail")["results"] == [[i, str(i)] for i in range(8)]


def test_a_parallel_pack_holds_every_certificate_signed(postgresql, org, tmp_path):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    people = [DataSubjectFactory(organisation=org) for _ in range(5)]
    for person in people:
        grant(person, purpose, notice)

    assert forked("pack", org.pk, tmp_path / "pack.zip") == {"forked": 1}

    roots = certificate_trust_roots(org)
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        names = sorted(n for n in pack.namelist() if n.startswith("certificates/subject-"))
        assert names == sorted(f"certificates/subject-{p.pk}.pdf" for p in people)
        for name in names:
            report = validate_pdf(pdf=pack.read(name), trust_roots=roots)
            assert report.intact and report.valid and report.trusted, name


def test_no_helper_is_forked_from_a_process_with_other_threads(postgresql):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not parallel.can_fork()
        results = list(parallel.render_all(list(range(6)), lambda i: str(os.getpid()).encode()))
    finally:
        stop.set()
        other.join()
    assert {pdf for _i, pdf in results} == {str(os.getpid()).encode()}
