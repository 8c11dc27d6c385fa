"""What blocking, restriction and suppression change elsewhere: lists, search, exports, capture,
imports, links, invites, rosters, packs and dashboard, through the real pages."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from consents import imports, services
from consents.models import (
    Action,
    ConsentEvent,
    ConsentState,
    DataSubject,
    UnconfirmedAnswer,
)
from consents.selectors import dashboard_figures
from evidence.packs import PackScope, build_pack
from groups import services as group_services
from groups.models import GroupMembership
from rights_requests import fulfilment
from rights_requests.choices import Right
from tests.consents.factories import DataSubjectFactory, grant, published_notice
from tests.groups.factories import group_with_notice
from tests.rights_requests.fulfil_factories import (
    consenting_person,
    marketing_and_appointments,
    rights_request,
)

# Each test starts with empty rate-limit windows (tests/rights_requests/conftest.py).
pytestmark = pytest.mark.django_db

NAME = "Lucía Pérez-Quintana"
PHONE = "+34612345678"


@pytest.fixture
def purposes(org):
    return marketing_and_appointments(org)


@pytest.fixture
def person(org, purposes):
    return consenting_person(org, full_name=NAME, phone=PHONE, purposes=purposes)


@pytest.fixture
def blocked(person, dpo):
    fulfilment.erasure_carry_out(rights_request=rights_request(person, Right.ERASURE), user=dpo)
    person.refresh_from_db()
    return person


@pytest.fixture
def client(client, settings):
    # Public pages speak the organisation's language unless the visitor chose one: English here.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _org_url(name, org, *args):
    return reverse(name, args=[org.slug, *args])


def _capture(client, purposes, chosen, phone="612 34 56 78"):
    return client.post(
        _org_url("consents:capture", org=purposes["offers"].organisation),
        {
            "phone": phone,
            "full_name": NAME,
            "kind": "customer",
            "language": "es",
            "purposes": [purposes[c].pk for c in chosen],
            "decision": "granted",
            "channel": "whatsapp",
            "captured_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "idempotency_key": "1f" * 16,
        },
    )


# --- blocked: gone from normal use ----------------------------------------------------------


def test_a_blocked_person_disappears_from_lists_search_register_csv_and_dashboard(
    client_for, org, blocked, dpo, purposes
):
    other = DataSubjectFactory(organisation=org, full_name="Omar Haddad")
    grant(other, purposes["citas"], purposes["notice"])
    client = client_for(dpo)
    for query in ("", "Quintana", "612 34 56 78", PHONE):
        body = client.get(_org_url("consents:subjects", org), {"q": query}).content.decode()
        assert NAME not in body
    assert "Omar Haddad" in client.get(_org_url("consents:subjects", org)).content.decode()
    register = client.get(_org_url("consents:register", org)).content.decode()
    assert NAME not in register and "Omar Haddad" in register
    csv_body = b"".join(client.get(_org_url("consents:register_csv", org))).decode()
    assert NAME not in csv_body and "612345678" not in csv_body and "Omar Haddad" in csv_body
    figures = dashboard_figures(org)
    assert figures["subject_count"] == 1
    assert {p.code: n for p, n in figures["coverage"]}["citas"] == 1
    lookup = client.get(_org_url("consents:capture_lookup", org), {"phone": "612345678"})
    assert (
        NAME not in lookup.content.decode() and "Nothing can be recorded" in lookup.content.decode()
    )
    # Their page says they are blocked, and until when, with none of their data.
    page = client.get(_org_url("consents:subject", org, blocked.pk)).content.decode()
    assert NAME not in page and "612" not in page and "blocked" in page.lower()


def test_capture_and_import_refuse_a_blocked_number(client_for, org, blocked, dpo, purposes):
    response = _capture(client_for(dpo), purposes, ["citas"])
    assert response.status_code == 200
    assert "blocked" in response.content.decode()
    assert (
        not ConsentEvent.objects.filter(subject=blocked, action=Action.GRANTED)
        .exclude(recorded_at__lt=blocked.blocked_at)
        .exists()
    )
    report = imports.import_check(
        organisation=org,
        fileobj=io.BytesIO(
            b"phone,full_name,purpose,action,captured_at\n612345678,X,citas,granted,2024-01-01\n"
        ),
    )
    assert report.errors and "blocked" in report.errors[0].message


def test_a_blocked_persons_proofs_certificates_and_links_are_closed(
    client_for, org, blocked, dpo, purposes
):
    client = client_for(dpo)
    response = client.post(
        _org_url("evidence:certificate", org, blocked.pk), {"purpose": "", "language": "es"}
    )
    assert response.status_code == 404
    links = blocked.consent_links.all()
    assert all(link.is_revoked for link in links)


def test_only_a_pack_made_for_an_authority_includes_a_blocked_person(
    org, blocked, purposes, tmp_path
):
    other = DataSubjectFactory(organisation=org, full_name="Omar Haddad")
    grant(other, purposes["citas"], purposes["notice"])

    def subjects_in(scope):
        path = tmp_path / f"{scope.for_authority}.zip"
        build_pack(organisation=org, scope=scope, path=path)
        with zipfile.ZipFile(path) as archive:
            records = json.loads(archive.read("records.json"))
            return {r["subject_id"] for r in records}, archive.read("subjects.csv").decode()

    normal, csv_normal = subjects_in(PackScope())
    assert normal == {other.pk} and NAME not in csv_normal
    authority, csv_authority = subjects_in(PackScope(for_authority=True))
    assert authority == {other.pk, blocked.pk} and NAME in csv_authority
    assert "authority" in PackScope(for_authority=True).describe()
    assert PackScope.from_parameters(PackScope(for_authority=True).to_parameters()).for_authority


def test_the_pack_form_offers_the_authority_option(client_for, org, dpo):
    body = client_for(dpo).get(_org_url("evidence:pack", org)).content.decode()
    assert 'name="for_authority"' in body


def test_a_blocked_person_leaves_the_group_rosters(org, person, dpo):
    group = group_with_notice(org, name="Pacientes")
    group_services.group_member_add(group=group, phone=person.phone, full_name=NAME, added_by=dpo)
    fulfilment.erasure_carry_out(rights_request=rights_request(person, Right.ERASURE), user=dpo)
    from groups.selectors import group_member_rows

    assert group_member_rows(group) == []
    check = group_services.roster_check_create(group=group, text="612 34 56 78", checked_by=dpo)
    assert check.results["unknown"] == [{"phone": PHONE}]  # no name, not "valid"
    group_services.roster_check_record(check=check, recorded_by=dpo)
    assert not GroupMembership.objects.filter(subject=person).current().exists()


def test_a_poster_and_an_invite_say_nothing_about_a_blocked_number(client, org, blocked, purposes):
    link = services.consent_link_create(
        organisation=org, created_by=None, purposes=[purposes["citas"]], label="Recepción"
    )
    url = reverse("consents:public", args=[link.token])
    response = client.post(
        url,
        {"purposes": [purposes["citas"].pk], "full_name": "X", "phone": "612345678"},
        follow=True,
    )
    assert "Thank you: your answer was received" in response.content.decode()
    group = group_with_notice(org, name="Pacientes")
    invite = reverse("groups:invite", args=[group.invite_token])
    key = client.get(invite).context["form"]["idempotency_key"].value()
    response = client.post(
        invite, {"full_name": "X", "phone": "612345678", "join": "on", "idempotency_key": key}
    )
    assert response.status_code == 200 and "blocked" not in response.content.decode()
    assert not ConsentEvent.objects.filter(subject=blocked, recorded_at__gt=blocked.blocked_at)


# --- restricted: kept, flagged, nothing new processed ---------------------------------------


@pytest.fixture
def restricted(person, dpo):
    fulfilment.restriction_carry_out(
        rights_request=rights_request(person, Right.RESTRICTION), user=dpo, ground="accuracy"
    )
    person.refresh_from_db()
    return person


def test_capture_refuses_a_restricted_person_with_the_reason(
    client_for, org, restricted, dpo, purposes
):
    client = client_for(dpo)
    lookup = client.get(_org_url("consents:capture_lookup", org), {"phone": "612345678"})
    assert "restricted" in lookup.content.decode()
    response = _capture(client, purposes, ["citas"])
    assert "restricted (GDPR Art. 18)" in response.content.decode()
    page = client.get(_org_url("consents:subject", org, restricted.pk)).content.decode()
    assert NAME in page and 'data-testid="restricted-notice"' in page


def test_imports_refuse_grants_for_a_restricted_person(org, restricted):
    report = imports.import_check(
        organisation=org,
        fileobj=io.BytesIO(
            f"phone,full_name,purpose,action,captured_at\n612345678,{NAME},citas,granted,2026-11-01\n".encode()
        ),
    )
    assert report.errors and "restricted" in report.errors[0].message


def test_a_restricted_persons_own_link_says_why_and_a_poster_says_nothing(
    client, org, person, purposes, dpo
):
    own = services.consent_link_create(organisation=org, created_by=dpo, subject=person)
    from tests.consents.factories import withdraw

    withdraw(person, purposes["citas"])
    fulfilment.restriction_carry_out(
        rights_request=rights_request(person, Right.RESTRICTION), user=dpo, ground="accuracy"
    )
    response = client.post(
        reverse("consents:public", args=[own.token]), {"purposes": [purposes["citas"].pk]}
    )
    assert "restricted" in response.content.decode()
    poster = services.consent_link_create(
        organisation=org, created_by=None, purposes=[purposes["citas"]]
    )
    response = client.post(
        reverse("consents:public", args=[poster.token]),
        {"purposes": [purposes["citas"].pk], "full_name": "X", "phone": "612345678"},
        follow=True,
    )
    body = response.content.decode()
    assert "Thank you: your answer was received" in body and "restricted" not in body
    assert ConsentState.objects.get(subject=person, purpose=purposes["citas"]).action == "withdrawn"
    assert not UnconfirmedAnswer.objects.exists()


# --- suppressed: marketing refused everywhere, silently where it must be -------------------


@pytest.fixture
def objected(person, dpo):
    fulfilment.objection_carry_out(rights_request=rights_request(person, Right.OBJECTION), user=dpo)
    person.refresh_from_db()
    return person


def test_capture_of_marketing_for_a_suppressed_number_is_refused_with_the_reason(
    client_for, objected, dpo, purposes
):
    response = _capture(client_for(dpo), purposes, ["offers"])
    assert "objected to direct marketing" in response.content.decode()
    assert ConsentState.objects.get(subject=objected, purpose=purposes["offers"]).action == (
        "withdrawn"
    )


def test_imports_refuse_marketing_for_a_suppressed_number_even_of_a_new_person(org, objected):
    DataSubject.objects.filter(pk=objected.pk).update(
        phone=None, full_name="", status=DataSubject.Status.PURGED, purged_at=timezone.now()
    )
    report = imports.import_check(
        organisation=org,
        fileobj=io.BytesIO(
            b"phone,full_name,purpose,action,captured_at\n"
            b"612345678,Nueva,offers,granted,2026-11-01\n"
            b"612345678,Nueva,citas,granted,2026-11-01\n"
        ),
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "purpose")]
    assert "objected to direct marketing" in report.errors[0].message


def test_a_poster_never_reveals_the_suppression_and_records_only_the_rest(
    client, org, objected, purposes
):
    poster = services.consent_link_create(
        organisation=org, created_by=None, purposes=[purposes["offers"], purposes["citas"]]
    )
    events = ConsentEvent.objects.count()
    response = client.post(
        reverse("consents:public", args=[poster.token]),
        {
            "purposes": [purposes["offers"].pk, purposes["citas"].pk],
            "full_name": "X",
            "phone": "612 34 56 78",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Thank you: your answer was received" in body and "marketing" not in body.lower()
    assert ConsentEvent.objects.count() == events  # citas was granted already: nothing new
    assert ConsentState.objects.get(subject=objected, purpose=purposes["offers"]).action == (
        "withdrawn"
    )
    # A number nobody suppressed gets both.
    client.post(
        reverse("consents:public", args=[poster.token]),
        {"purposes": [purposes["offers"].pk], "full_name": "Otro", "phone": "699 11 22 33"},
    )
    assert ConsentState.objects.filter(
        subject__phone="+34699112233", purpose=purposes["offers"], action="granted"
    ).exists()


def test_an_invite_drops_marketing_for_a_suppressed_number_and_still_lets_them_join(
    client, org, objected, purposes
):
    group = group_with_notice(org, name="Pacientes")
    published_notice(purposes=[purposes["offers"]], language="en", summary="Offers.")
    invite = reverse("groups:invite", args=[group.invite_token])
    key = client.get(invite).context["form"]["idempotency_key"].value()
    response = client.post(
        invite,
        {
            "full_name": NAME,
            "phone": "612345678",
            "join": "on",
            "purposes": [purposes["offers"].pk],
            "idempotency_key": key,
        },
    )
    assert response.status_code == 302 and response["Location"] == group.invite_url
    assert ConsentState.objects.get(subject=objected, purpose=group.purpose).action == "granted"
    assert ConsentState.objects.get(subject=objected, purpose=purposes["offers"]).action == (
        "withdrawn"
    )


def test_the_pack_command_makes_a_pack_for_an_authority(org, blocked, purposes, tmp_path):
    from django.core.management import call_command

    paths = {flag: tmp_path / f"{bool(flag)}.zip" for flag in ("", "--for-authority")}
    for flag, path in paths.items():
        args = ["export_pack", "--org", org.slug, "-o", str(path)] + ([flag] if flag else [])
        call_command(*args, stdout=io.StringIO())
    subjects = {}
    for flag, path in paths.items():
        with zipfile.ZipFile(path) as archive:
            subjects[flag] = archive.read("subjects.csv").decode()
    assert NAME not in subjects[""]
    assert NAME in subjects["--for-authority"]
