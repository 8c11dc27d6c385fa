"""The person's own pages: the personal link's request page and the public request form."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consents import services as consent_services
from consents.models import DataSubject
from rights_requests import letters
from rights_requests.choices import LetterKind, RequestChannel, RequestStatus, Right, SentVia
from rights_requests.models import IdentityCode, RightsRequest
from tests.consents.factories import DataSubjectFactory, PurposeFactory
from tests.rights_requests.factories import logged_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_letters")]


@pytest.fixture
def person(org):
    PurposeFactory(organisation=org)
    return DataSubjectFactory(
        organisation=org, full_name="Ana Ruiz", phone="+34600111222", preferred_language="es"
    )


@pytest.fixture
def link(person):
    return consent_services.consent_link_for_subject(subject=person, created_by=None)


def _page(link):
    return reverse("rights_requests:link", args=[link.token])


# --- the personal link ---------------------------------------------------------------------


def test_the_consent_page_leads_to_the_request_page(client, link):
    page = client.get(reverse("consents:public", args=[link.token])).content.decode()
    assert f"{_page(link)}?right=erasure" in page
    assert f"{_page(link)}?right=access" in page


def test_a_person_asks_for_erasure_from_their_link(client, link, person):
    page = client.get(_page(link), {"right": "erasure"})
    assert page.status_code == 200
    assert "Ana Ruiz" in page.content.decode()
    response = client.post(_page(link), {"right": Right.ERASURE, "details": ""}, follow=True)
    rr = RightsRequest.objects.get()
    assert (rr.subject, rr.right, rr.channel, rr.status) == (
        person,
        Right.ERASURE,
        RequestChannel.PERSONAL_LINK,
        RequestStatus.RECEIVED,
    )
    body = response.content.decode()
    assert rr.reference in body
    assert 'data-testid="my-request"' in body


def test_the_request_page_speaks_the_person_s_language(client, org):
    PurposeFactory(organisation=org)
    person = DataSubjectFactory(organisation=org, preferred_language="ar")
    link = consent_services.consent_link_for_subject(subject=person, created_by=None)
    page = client.get(_page(link)).content.decode()
    assert '<html lang="ar" dir="rtl">' in page


def test_asking_the_same_again_says_it_is_in_hand(client, link):
    client.post(_page(link), {"right": Right.ACCESS})
    response = client.post(_page(link), {"right": Right.ACCESS})
    assert response.status_code == 200
    # The person's language (Spanish here): the message says when and under which reference.
    first = RightsRequest.objects.get()
    assert "Ya hizo esta solicitud" in response.content.decode()
    assert first.reference in response.content.decode()
    assert RightsRequest.objects.count() == 1


def test_unknown_and_blocked_links_say_nothing(client, link, person):
    assert client.get(reverse("rights_requests:link", args=["nope" * 8])).status_code == 404
    DataSubject.objects.filter(pk=person.pk).update(
        status=DataSubject.Status.BLOCKED, blocked_at=timezone.now(), purge_after=date(2030, 1, 1)
    )
    response = client.get(_page(link))
    assert response.status_code == 410
    assert "Ana Ruiz" not in response.content.decode()


def test_the_link_page_is_rate_limited(client, link, settings):
    settings.CONSENT_RATE_PER_TOKEN = 3
    statuses = [client.get(_page(link)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_person_shows_a_code_for_a_request_waiting_for_identity(client, org, link, person):
    rr = logged_request(org, subject=person)
    page = client.get(_page(link)).content.decode()
    assert 'data-testid="show-code"' in page
    code_url = reverse("rights_requests:link_code", args=[link.token])
    response = client.post(code_url, {"request": rr.pk})
    assert response["Cache-Control"] == "no-store"
    code = response.context["code"]
    assert f">{code}<" in response.content.decode()
    assert IdentityCode.objects.filter(request=rr).count() == 1
    # Another person's request gets no code through this link.
    other = logged_request(org, subject=DataSubjectFactory(organisation=org))
    assert client.post(code_url, {"request": other.pk}).status_code == 404
    assert client.post(code_url, {"request": "1; drop"}).status_code == 404


def test_letters_sent_through_the_link_download_there_and_no_others(client, org, link, person):
    rr = logged_request(org, subject=person)
    shown = letters.letter_create(
        rights_request=rr, kind=LetterKind.ACKNOWLEDGEMENT, body="Recibida.", user=None
    )
    letters.letter_send(letter=shown, via=SentVia.PERSONAL_LINK, user=None)
    posted = letters.letter_create(
        rights_request=rr, kind=LetterKind.IDENTITY, body="DNI.", user=None
    )
    letters.letter_send(letter=posted, via=SentVia.POST, user=None)
    page = client.get(_page(link)).content.decode()
    assert reverse("rights_requests:link_letter", args=[link.token, shown.pk]) in page
    response = client.get(reverse("rights_requests:link_letter", args=[link.token, shown.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    response = client.get(reverse("rights_requests:link_letter", args=[link.token, posted.pk]))
    assert response.status_code == 404


# --- the public form -----------------------------------------------------------------------


def _without_tokens(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def _form(org):
    return reverse("rights_requests:public_form", args=[org.slug])


def _send(client, org, phone):
    return client.post(
        _form(org),
        {"name": "Ana Ruiz", "phone": phone, "right": Right.ACCESS, "details": "Mis datos"},
        follow=True,
    )


def test_the_public_form_answers_the_same_whether_the_person_exists_or_not(client, org, person):
    known = _send(client, org, "+34 600 11 12 22")
    unknown = _send(client, org, "+34 699 99 99 99")
    assert known.redirect_chain == unknown.redirect_chain
    # Byte for byte, but for the language switcher's CSRF token (masked afresh on every page).
    assert _without_tokens(known.content) == _without_tokens(unknown.content)
    assert 'data-testid="request-sent"' in known.content.decode()
    matched, unmatched = RightsRequest.objects.order_by("pk")
    assert (matched.subject, unmatched.subject) == (person, None)
    assert {matched.status, unmatched.status} == {RequestStatus.IDENTITY}


def test_the_public_form_shows_errors_and_keeps_nothing(client, org):
    response = client.post(_form(org), {"name": "", "right": Right.ACCESS})
    assert response.status_code == 200
    assert not RightsRequest.objects.exists()
    response = client.post(_form(org), {"name": "Ana", "right": Right.ACCESS})
    assert "phone number or an e-mail" in response.content.decode()
    assert not RightsRequest.objects.exists()


def test_the_public_form_is_rate_limited_per_address(client, org, settings):
    settings.RIGHTS_FORM_POSTS_PER_IP = 2
    statuses = [_send(client, org, f"+34 699 00 00 0{n}").status_code for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert RightsRequest.objects.count() == 2


def test_the_public_form_needs_its_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_form(org), {"name": "Ana", "phone": "+34699000000", "right": "access"})
    assert response.status_code == 403
    assert not RightsRequest.objects.exists()


def test_an_unknown_organisation_has_no_form(client):
    assert client.get(reverse("rights_requests:public_form", args=["nobody"])).status_code == 404
