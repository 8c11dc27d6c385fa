"""Run by `make check-runtime` in a venv that has the runtime dependencies only (`pip install .`).

Takes a certificate exported by `manage.py export_certificate` and posts it to the verify page as
the demo DPO, through Django's test client: the pages import what production imports (pypdf,
pyHanko, cryptography...), so a module that only the [test] extra brings fails here, not in
front of a user.

    python .ci/check_runtime.py CERTIFICATE.pdf
"""

import os
import sys
from pathlib import Path

DEMO_ORG = "clinica-sonrisa"
DEMO_DPO = "dpo@demo.constancia.test"


def main(certificate: Path) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User

    # Lets the client's "testserver" host through ALLOWED_HOSTS, as under the test runner.
    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(email=DEMO_DPO))
    failures = []
    for path in (f"/o/{DEMO_ORG}/", f"/o/{DEMO_ORG}/evidence/verify/"):
        status = client.get(path).status_code
        print(f"GET {path}: {status}")
        if status != 200:
            failures.append(f"GET {path} answered {status}")
    upload = SimpleUploadedFile(certificate.name, certificate.read_bytes(), "application/pdf")
    response = client.post(f"/o/{DEMO_ORG}/evidence/verify/", {"file": upload})
    page = response.content.decode()
    print(
        f"POST /o/{DEMO_ORG}/evidence/verify/ ({certificate.stat().st_size} bytes): "
        f"{response.status_code}"
    )
    if response.status_code != 200:
        failures.append(f"the verify page answered {response.status_code}")
    elif "the evidence is intact" not in page:
        failures.append("the verify page did not find the exported certificate intact")
    if failures:
        print("check-runtime FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("check-runtime: the certificate verifies as intact with runtime dependencies only")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
