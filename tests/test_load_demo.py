"""`make run` loads the demo through manage.py load_demo: what a newcomer sees first."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Organisation, User

pytestmark = pytest.mark.django_db


def test_the_demo_starts_with_its_whole_ledger_checked(client_for):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "Demo logins" in out.getvalue()
    organisation = Organisation.objects.get()
    check = organisation.integrity_checks.first()
    assert check.ok
    assert check.head_sequence == organisation.ledger_head.sequence
    # The group and request demos record events after the consent demo's own check.
    assert organisation.integrity_checks.count() == 2
    staff = User.objects.get(email="staff@demo.constancia.test")
    page = client_for(staff).get(reverse("accounts:dashboard", args=[organisation.slug]))
    body = page.content.decode()
    assert "no event since" in body
