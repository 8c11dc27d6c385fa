"""The public, consent-gated invite: the WhatsApp link only ever appears as the redirect that
follows a recorded consent."""

import pytest
from django.urls import reverse

from consents.models import Channel, ConsentEvent, ConsentState, PurposeCategory
from groups import public, services
from groups.models import GroupMembership
from tests.consents.factories import PurposeFactory, published_notice
from tests.groups.factories import group_with_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(org):
    return group_with_notice(org, name="Pacientes ortodoncia")


def _url(group):
    return reverse("groups:invite", args=[group.invite_token])


def _form(client, group, **data):
    """The page's form as a browser would send it back (with its hidden idempotency key)."""
    page = client.get(_url(group))
    key = page.context["form"]["idempotency_key"].value()
    return {"full_name": "Lucía Pérez", "phone": "600 12 34 56", "idempotency_key": key, **data}


def test_the_invite_page_shows_organisation_group_and_notice_but_not_the_whatsapp_link(
    client, group
):
    response = client.get(_url(group), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Clínica Dental Norte S.L." in body and "Pacientes ortodoncia" in body
    assert "Le uniremos al grupo" in body
    assert group.invite_url not in body and "chat.whatsapp.com" not in body
    assert "checked" not in body.split('name="join"')[1].split(">")[0]


def test_the_notice_follows_the_visitors_language(client, group):
    body = client.get(_url(group), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You join the group" in body


def test_arabic_visitors_get_a_right_to_left_page(client, group):
    body = client.get(_url(group), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in body


def test_consenting_records_the_event_and_redirects_to_whatsapp(client, group):
    data = _form(client, group, join="on")
    response = client.post(
        _url(group), data, HTTP_USER_AGENT="Mobile Safari", REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302
    assert response["Location"] == group.invite_url
    membership = GroupMembership.objects.get()
    event = membership.consent_event
    assert membership.joined_via == GroupMembership.JoinedVia.INVITE_LINK_WITH_CONSENT
    assert event.purpose == group.purpose and event.channel == Channel.INVITE_LINK
    assert event.by_subject and event.recorded_by is None
    assert event.ip_address == "203.0.113.7" and event.user_agent == "Mobile Safari"
    assert membership.subject.phone.as_e164 == "+34600123456"


def test_a_double_submission_records_once(client, group):
    data = _form(client, group, join="on")
    client.post(_url(group), data)
    again = client.post(_url(group), data)
    assert again.status_code == 302
    assert ConsentEvent.objects.count() == 1 and GroupMembership.objects.count() == 1


def test_optional_purposes_are_recorded_only_when_ticked(client, org, group):
    marketing = PurposeFactory(organisation=org, category=PurposeCategory.MARKETING, name="Ofertas")
    published_notice(purposes=[marketing], language="en", summary="Offers by WhatsApp.")
    body = client.get(_url(group)).content.decode()
    assert "Offers by WhatsApp." in body
    client.post(_url(group), _form(client, group, join="on", purposes=[marketing.pk]))
    assert set(ConsentState.objects.values_list("purpose", flat=True)) == {
        group.purpose.pk,
        marketing.pk,
    }


@pytest.mark.parametrize(
    "data",
    [
        {},  # the group box not ticked
        {"join": "on", "phone": "600ABC123"},
        {"join": "on", "full_name": ""},
    ],
)
def test_failed_submissions_record_nothing_and_never_show_the_link(client, group, data):
    response = client.post(_url(group), _form(client, group, **data))
    body = response.content.decode()
    assert response.status_code == 200
    assert "chat.whatsapp.com" not in body
    assert not ConsentEvent.objects.exists() and not GroupMembership.objects.exists()


def test_a_failed_submission_says_why(client, group):
    body = client.post(_url(group), _form(client, group)).content.decode()
    assert "tick the box to agree" in body


def test_the_form_is_csrf_protected(group):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_url(group), {"full_name": "x", "phone": "600123456", "join": "on"})
    assert response.status_code == 403
    assert not ConsentEvent.objects.exists()


def test_an_unknown_token_is_404(client, group):
    assert client.get(reverse("groups:invite", args=["nope"])).status_code == 404


def test_an_archived_group_answers_410_without_the_link(client, group):
    services.group_archive(group=group)
    response = client.get(_url(group))
    assert response.status_code == 410
    assert "This group is closed" in response.content.decode()
    assert "chat.whatsapp.com" not in response.content.decode()
    assert client.post(_url(group), {"join": "on"}).status_code == 410


def test_too_many_requests_from_one_ip_get_429(client, group, monkeypatch):
    monkeypatch.setattr(public, "PER_IP", public.ratelimit.Limit("test-ip", 3, 600))
    codes = [client.get(_url(group)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get(_url(group))
    assert "Too many attempts" in response.content.decode() and response["Retry-After"]


def test_too_many_requests_for_one_token_get_429(client, group, monkeypatch):
    monkeypatch.setattr(public, "PER_TOKEN", public.ratelimit.Limit("test-token", 2, 600))
    codes = [client.get(_url(group), REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]
