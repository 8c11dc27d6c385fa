"""Certificates of a pack rendered on several cores (WeasyPrint is CPU-bound Python: threads
would share one core).

A pack runs in a Celery prefork worker, whose daemonic processes may not start children through
multiprocessing, so the helpers are plain ``os.fork()`` copies of the worker: they inherit the
loaded code, the settings, the pack's one chain verification and the signer, and open their own
database connection. Each renders its share into a private temporary directory and leaves by
``os._exit`` (no cleanup that could touch the parent's connection). The parent renders its own
share meanwhile, then takes the files in subject order. Whatever a helper did not deliver
(crashed, killed, refused) the parent renders itself: a pack never lacks a certificate it lists.

Forking is done only where it is safe: PostgreSQL (a new connection sees what the parent sees;
an SQLite memory database would not be shared), outside a transaction (a helper could not see
its uncommitted rows), and from a process with a single thread (a fork copies only the calling
thread, and locks another thread held would stay locked). Elsewhere the parent renders all.
"""

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from .pdf import fonts_remove


def processes() -> int:
    """How many processes render a pack's certificates (PACK_CERTIFICATE_PROCESSES, or one per
    core, at most 4)."""
    configured = settings.PACK_CERTIFICATE_PROCESSES
    return configured if configured > 0 else min(os.cpu_count() or 1, 4)


def can_fork() -> bool:
    return (
        hasattr(os, "fork")
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and threading.active_count() == 1
    )


def render_all(ids: list[int], render, *, workers: int | None = None):
    """Yield ``(id, render(id))`` in the order of ``ids``, the work shared among up to
    ``workers`` processes when that is safe and worth it (two or more ids per process)."""
    workers = workers or processes()
    if workers < 2 or len(ids) < 2 * workers or not can_fork():
        for subject_id in ids:
            yield subject_id, render(subject_id)
        return
    shares = [ids[n::workers] for n in range(workers)]
    folder = Path(tempfile.mkdtemp(prefix="constancia-certificates-"))
    try:
        children = [_fork(share, render, folder) for share in shares[1:]]
        try:
            mine = {subject_id: render(subject_id) for subject_id in shares[0]}
        except BaseException:
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            raise
        finally:
            for pid in children:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        for subject_id in ids:
            if subject_id in mine:
                yield subject_id, mine.pop(subject_id)
                continue
            done = folder / f"{subject_id}.pdf"
            yield subject_id, done.read_bytes() if done.exists() else render(subject_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fork(share: list[int], render, folder: Path) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The helper. Forget the parent's connections without closing them (closing would end the
    # parent's session); keep the objects referenced so that no destructor runs before _exit.
    inherited = []
    for wrapper in connections.all(initialized_only=True):
        inherited.append(wrapper.connection)
        wrapper.connection = None
    status = 1
    try:
        for subject_id in share:
            pdf = render(subject_id)
            partial = folder / f"{subject_id}.part"
            partial.write_bytes(pdf)
            partial.rename(folder / f"{subject_id}.pdf")  # whole files only
        status = 0
    except BaseException:  # noqa: BLE001 (the parent renders what is missing)
        status = 1
    finally:
        try:
            connections.close_all()
            fonts_remove()  # os._exit runs no atexit handler
        finally:
            os._exit(status)
