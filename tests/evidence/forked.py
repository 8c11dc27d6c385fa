"""Run by tests/evidence/test_parallel.py in a process of its own: the test process may hold
other threads (pytest-django's live server lives for the whole session), and evidence.parallel
rightly refuses to fork from such a process. Prints one JSON line.

    python -m tests.evidence.forked share|fail
    python -m tests.evidence.forked pack <organisation id> <zip path>
"""

import json
import os
import sys


def main(argv: list[str]) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from evidence import parallel

    if not parallel.can_fork():
        return {"error": "cannot fork here"}
    parent = os.getpid()
    if argv[0] == "share":

        def render(i):
            return f"{i}:{os.getpid()}".encode()

        results = list(parallel.render_all(list(range(1, 11)), render, workers=3))
        return {"parent": parent, "results": [[i, pdf.decode()] for i, pdf in results]}
    if argv[0] == "fail":

        def render(i):
            if os.getpid() != parent:
                raise RuntimeError("a helper that fails")
            return str(i).encode()

        results = list(parallel.render_all(list(range(8)), render, workers=2))
        return {"results": [[i, pdf.decode()] for i, pdf in results]}
    from django.test.utils import override_settings

    from accounts.models import Organisation
    from evidence.packs import PackScope, build_pack

    forked = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    os.fork = counting_fork
    with override_settings(PACK_CERTIFICATE_PROCESSES=2):
        build_pack(
            organisation=Organisation.objects.get(pk=int(argv[1])),
            scope=PackScope(),
            path=argv[2],
        )
    os.fork = real_fork
    return {"forked": len(forked)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
