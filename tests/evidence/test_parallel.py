"""A pack's certificates rendered in forked helpers (evidence.parallel): the same files, in the
same order, and none missing when a helper fails. PostgreSQL only (helpers open their own
connection; CI runs these), outside a transaction, so the data the helpers read is committed."""

import os
import threading
import zipfile

import pytest
from django.db import connection

from evidence import parallel
from evidence.packs import PackScope, build_pack
from evidence.signing import certificate_trust_roots, validate_pdf
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice


@pytest.fixture
def forking(transactional_db):
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the forked rendering on PostgreSQL (DATABASE_URL).")
        pytest.skip("Forked helpers render only on PostgreSQL (set DATABASE_URL; CI does).")
    if threading.active_count() > 1:
        pytest.skip("Another thread runs in this process: helpers are not forked then.")
    assert parallel.can_fork()


def test_the_work_is_shared_and_comes_back_in_order(forking):
    parent = os.getpid()
    ids = list(range(1, 11))

    results = list(parallel.render_all(ids, lambda i: f"{i}:{os.getpid()}".encode(), workers=3))

    assert [subject_id for subject_id, _pdf in results] == ids
    assert all(pdf.decode().startswith(f"{i}:") for i, pdf in results)
    pids = {int(pdf.decode().split(":")[1]) for _i, pdf in results}
    assert parent in pids and len(pids) == 3


def test_what_a_helper_fails_to_render_the_parent_renders(forking):
    parent = os.getpid()

    def render(i):
        if os.getpid() != parent:
            raise RuntimeError("a helper that fails")
        return str(i).encode()

    results = dict(parallel.render_all(list(range(8)), render, workers=2))

    assert results == {i: str(i).encode() for i in range(8)}


def test_a_parallel_pack_holds_every_certificate_signed(forking, org, settings, tmp_path):
    settings.PACK_CERTIFICATE_PROCESSES = 2
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    people = [DataSubjectFactory(organisation=org) for _ in range(5)]
    for person in people:
        grant(person, purpose, notice)
    forked = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    os.fork = counting_fork
    try:
        build_pack(organisation=org, scope=PackScope(), path=tmp_path / "pack.zip")
    finally:
        os.fork = real_fork

    assert len(forked) == 1
    roots = certificate_trust_roots(org)
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        names = sorted(n for n in pack.namelist() if n.startswith("certificates/subject-"))
        assert names == sorted(f"certificates/subject-{p.pk}.pdf" for p in people)
        for name in names:
            report = validate_pdf(pdf=pack.read(name), trust_roots=roots)
            assert report.intact and report.valid and report.trusted, name
