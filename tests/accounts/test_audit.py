"""Changes made in the Django admin reach the audit trail too (invariant 6)."""

import pytest

from accounts.models import AuditEntry, User
from tests.accounts.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

ADMIN_IP = "198.51.100.23"


def test_an_organisation_changed_in_the_admin_is_audited_with_user_and_ip(client):
    operator = User.objects.create_superuser("operator@constancia.example", "unused-here")
    org = OrganisationFactory(legal_name="Antes S.L.", dpo_name="Old DPO")
    client.force_login(operator)
    data = {
        "legal_name": "Después S.L.",
        "slug": org.slug,
        "tax_id": org.tax_id,
        "address": "",
        "country": "PT",
        "contact_email": org.contact_email,
        "dpo_name": "Old DPO",
        "dpo_email": org.dpo_email,
        "default_language": "es",
        "holiday_region": "",
        "blocking_years": "3",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }

    response = client.post(
        f"/admin/accounts/organisation/{org.pk}/change/", data, REMOTE_ADDR=ADMIN_IP
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.CHANGED)
    assert entry.user == operator
    assert entry.ip_address == ADMIN_IP
    assert entry.register == "organisation"
    assert entry.object_repr == "Después S.L."
    assert sorted((c["field"], c["old"], c["new"]) for c in entry.changes) == [
        ("country", "ES", "PT"),
        ("legal_name", "Antes S.L.", "Después S.L."),
    ]
    history = org.history.latest()
    assert history.history_user == operator
    assert history.history_ip_address == ADMIN_IP


def test_saving_without_changes_adds_no_audit_entry(client):
    org = OrganisationFactory()
    before = AuditEntry.objects.count()
    org.save()
    assert AuditEntry.objects.count() == before
