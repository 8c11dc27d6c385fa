"""Organisation, members and activity pages through the real client."""

import pytest
from django.core import mail

from accounts.models import AuditEntry, Membership, Organisation, User
from accounts.roles import Role
from tests.accounts.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


def _organisation_form(org, **changes):
    data = {
        "legal_name": org.legal_name,
        "tax_id": org.tax_id,
        "address": org.address,
        "country": org.country,
        "contact_email": org.contact_email,
        "dpo_name": org.dpo_name,
        "dpo_email": org.dpo_email,
        "default_language": org.default_language,
        "holiday_region": org.holiday_region,
        "blocking_years": org.blocking_years,
    }
    return data | changes


def _snapshot(org):
    return Organisation.objects.filter(pk=org.pk).values().get()


def test_the_dpo_edits_the_organisation_and_the_change_is_audited(client, org, dpo):
    old_tax_id = org.tax_id
    client.force_login(dpo)
    response = client.post(
        "/o/clinic/organisation/",
        _organisation_form(org, legal_name="Clínica Dental Sur S.L.", tax_id="B87654321"),
        REMOTE_ADDR=CLIENT_IP,
    )

    assert response.status_code == 302
    assert response["Location"] == "/o/clinic/organisation/"
    org.refresh_from_db()
    assert org.legal_name == "Clínica Dental Sur S.L."
    assert org.tax_id == "B87654321"
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.CHANGED)
    assert entry.register == "organisation"
    assert entry.user == dpo
    assert entry.ip_address == CLIENT_IP
    assert entry.object_id == str(org.pk)
    assert sorted(entry.changes, key=lambda c: c["field"]) == [
        {
            "field": "legal_name",
            "old": "Clínica Dental Norte S.L.",
            "new": "Clínica Dental Sur S.L.",
        },
        {"field": "tax_id", "old": old_tax_id, "new": "B87654321"},
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_id", "B1!", "Enter a tax id of 5 to 20 letters, digits or hyphens"),
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("dpo_email", "dpo@", "Enter a valid email address."),
    ],
)
def test_invalid_organisation_details_show_an_error_and_change_nothing(
    client, org, dpo, field, value, message
):
    before = _snapshot(org)
    audit_before = AuditEntry.objects.count()
    client.force_login(dpo)
    response = client.post(
        "/o/clinic/organisation/", _organisation_form(org, legal_name="Changed", **{field: value})
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    assert _snapshot(org) == before
    assert AuditEntry.objects.count() == audit_before


def test_the_dpo_adds_a_member_through_the_members_page(
    client, org, dpo, django_capture_on_commit_callbacks
):
    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/o/clinic/members/",
            {"email": "nuevo@clinic.example", "full_name": "Nuevo", "role": Role.STAFF},
            follow=True,
        )

    assert response.redirect_chain == [("/o/clinic/members/", 302)]
    page = response.content.decode()
    assert "nuevo@clinic.example was added and has been sent an e-mail." in page
    assert 'data-email="nuevo@clinic.example"' in page
    assert "invitation pending" in page
    assert Membership.objects.get(user__email="nuevo@clinic.example").role == Role.STAFF
    assert len(mail.outbox) == 1


def test_adding_an_existing_member_shows_the_reason_and_changes_nothing(client, org, dpo, staff):
    client.force_login(dpo)
    count = Membership.objects.count()
    response = client.post(
        "/o/clinic/members/", {"email": "staff@clinic.example", "role": Role.DPO}
    )

    assert response.status_code == 200
    assert "staff@clinic.example is already a member of this organisation." in (
        response.content.decode()
    )
    assert Membership.objects.count() == count
    assert staff.memberships.get().role == Role.STAFF


def test_an_invalid_email_on_the_members_page_changes_nothing(client, org, dpo):
    client.force_login(dpo)
    users = User.objects.count()
    response = client.post("/o/clinic/members/", {"email": "nobody@", "role": Role.STAFF})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert User.objects.count() == users


def _change_role(client, dpo, membership, role) -> str:
    """The DPO asks for ``role`` on the members page: the page it ends on. ``membership`` is
    read again from the database."""
    client.force_login(dpo)
    response = client.post(f"/o/clinic/members/{membership.pk}/role/", {"role": role}, follow=True)
    membership.refresh_from_db()
    return response.content.decode()


def test_the_dpo_changes_a_role_through_the_members_page(client, org, dpo, staff):
    membership = staff.memberships.get()
    page = _change_role(client, dpo, membership, Role.AUDITOR)
    assert "Role changed." in page
    assert membership.role == Role.AUDITOR


def test_the_dpo_removes_a_member_through_the_members_page(client, org, dpo, staff):
    membership = staff.memberships.get()
    client.force_login(dpo)
    response = client.post(f"/o/clinic/members/{membership.pk}/remove/", follow=True)
    assert f"{staff.display_name} was removed." in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_dpo_cannot_demote_themself_through_the_members_page(client, org, dpo):
    membership = dpo.memberships.get()
    page = _change_role(client, dpo, membership, Role.STAFF)
    assert "is the last DPO of this organisation" in page
    assert membership.role == Role.DPO


def test_an_unknown_role_on_the_members_page_changes_nothing(client, org, dpo, staff):
    membership = staff.memberships.get()
    page = _change_role(client, dpo, membership, "owner")
    assert "Choose a role." in page
    assert membership.role == Role.STAFF


@pytest.fixture
def activity(org, dpo, staff):
    """Two people change two registers of ``org``; one change happens in another organisation."""
    # Creating the cast was recorded too; start from a known feed.
    AuditEntry.objects.all().delete()
    AuditEntry.objects.create(
        organisation=org, user=dpo, register="organisation", action="changed", object_repr="A1"
    )
    AuditEntry.objects.create(
        organisation=org, user=staff, register="membership", action="created", object_repr="B2"
    )
    AuditEntry.objects.create(
        organisation=OrganisationFactory(),
        user=dpo,
        register="organisation",
        action="changed",
        object_repr="C3",
    )


def _shown(response):
    return sorted(entry.object_repr for entry in response.context["page"])


def test_the_activity_page_lists_only_this_organisations_entries(client, dpo, activity):
    client.force_login(dpo)
    response = client.get("/o/clinic/activity/")
    assert _shown(response) == ["A1", "B2"]


def test_the_activity_page_filters_by_user(client, dpo, staff, activity):
    client.force_login(dpo)
    assert _shown(client.get("/o/clinic/activity/", {"user": staff.pk})) == ["B2"]
    assert _shown(client.get("/o/clinic/activity/", {"user": dpo.pk})) == ["A1"]


def test_the_activity_page_filters_by_register(client, dpo, activity):
    client.force_login(dpo)
    assert _shown(client.get("/o/clinic/activity/", {"register": "membership"})) == ["B2"]
    assert _shown(client.get("/o/clinic/activity/", {"register": "organisation"})) == ["A1"]


def test_auditors_see_the_activity_but_cannot_edit(client, org, auditor, activity):
    client.force_login(auditor)
    assert _shown(client.get("/o/clinic/activity/")) == ["A1", "B2"]
    before = _snapshot(org)
    response = client.post("/o/clinic/organisation/", _organisation_form(org, legal_name="X"))
    assert response.status_code == 403
    assert (
        client.post("/o/clinic/members/", {"email": "x@example.org", "role": "dpo"}).status_code
        == 403
    )
    assert _snapshot(org) == before
    assert not User.objects.filter(email="x@example.org").exists()


def test_a_member_of_two_organisations_switches_between_them(client, org, other_org, dpo):
    MembershipFactory(organisation=other_org, user=dpo, role=Role.AUDITOR)
    client.force_login(dpo)

    assert client.get("/").status_code == 302
    assert client.get("/")["Location"] == "/organisations/"
    listing = client.get("/organisations/").content.decode()
    assert org.legal_name in listing and other_org.legal_name in listing

    clinic = client.get("/o/clinic/")
    assert clinic.context["organisation"] == org
    assert f'<h1 class="h3 mb-0" dir="auto">{org.legal_name}</h1>' in clinic.content.decode()
    assert client.get("/")["Location"] == "/o/clinic/"

    other = client.get("/o/other/")
    assert other.context["organisation"] == other_org
    assert f'<h1 class="h3 mb-0" dir="auto">{other_org.legal_name}</h1>' in other.content.decode()
    assert client.get("/")["Location"] == "/o/other/"


def test_a_member_of_one_organisation_goes_straight_to_its_dashboard(client, org, staff):
    client.force_login(staff)
    assert client.get("/")["Location"] == "/o/clinic/"
