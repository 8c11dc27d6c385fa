"""Self-service consent: a person's own link (no login) to give, confirm and withdraw consent."""

from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from consents import services
from consents.acts import ConsentAct, Decision, PersonDetails
from consents.models import Action, Channel, ConsentEvent, ConsentState, DataSubject
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

UA = "Mozilla/5.0 (Linux; Android 14) Test"


@pytest.fixture
def purposes(org):
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    appointments = PurposeFactory(organisation=org, code="appointments", name="Citas")
    es = published_notice(
        purposes=[marketing, appointments], summary="Ofertas y recordatorios por WhatsApp."
    )
    en = published_notice(
        purposes=[marketing, appointments],
        language="en",
        title="Privacy notice",
        summary="Offers and reminders on WhatsApp.",
    )
    return {"marketing": marketing, "appointments": appointments, "es": es, "en": en}


@pytest.fixture
def person(org):
    return DataSubjectFactory(
        organisation=org, full_name="Lucía Pérez", phone="+34600123456", preferred_language="es"
    )


@pytest.fixture
def link(org, person, purposes, staff):
    return services.consent_link_create(organisation=org, created_by=staff, subject=person)


def _url(link, suffix=""):
    return reverse("consents:public" + suffix, kwargs={"token": link.token})


def test_a_personal_link_shows_the_notices_in_the_persons_language_with_nothing_pre_ticked(
    client, link, purposes
):
    response = client.get(_url(link))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Clínica Dental Norte S.L." in html
    assert "Ofertas y recordatorios por WhatsApp." in html
    assert "<details" in html
    assert 'type="checkbox"' in html
    assert "checked" not in html
    assert html.count('name="purposes"') == 2


def test_submitting_records_events_by_the_person_with_ip_browser_and_notice(
    client, link, person, purposes
):
    response = client.post(
        _url(link),
        {"purposes": [purposes["marketing"].pk]},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    (event,) = ConsentEvent.objects.filter(subject=person)
    assert event.action == Action.GRANTED
    assert event.purpose == purposes["marketing"]
    assert event.by_subject is True
    assert event.recorded_by is None
    assert event.channel == Channel.WEB_FORM
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == UA
    assert event.notice_version == purposes["es"]
    assert event.notice_sha256 == purposes["es"].sha256
    link.refresh_from_db()
    assert link.last_used_at is not None
    page = client.get(_url(link)).content.decode()
    assert "You agreed" in page or "Usted aceptó" in page or 'data-testid="withdraw"' in page


def test_submitting_nothing_ticked_records_nothing_and_says_why(client, link, person):
    response = client.post(_url(link), {})
    assert response.status_code == 200
    assert not ConsentEvent.objects.exists()


def test_withdrawal_takes_one_click_and_appends_a_withdrawn_event(client, link, person, purposes):
    client.post(_url(link), {"purposes": [purposes["marketing"].pk]})
    response = client.post(
        _url(link, "_withdraw"), {"purpose": purposes["marketing"].pk}, HTTP_USER_AGENT=UA
    )
    assert response.status_code == 302
    events = list(ConsentEvent.objects.filter(subject=person).order_by("sequence"))
    assert [e.action for e in events] == [Action.GRANTED, Action.WITHDRAWN]
    assert events[1].by_subject is True
    assert events[1].user_agent == UA
    state = ConsentState.objects.get(subject=person, purpose=purposes["marketing"])
    assert state.action == Action.WITHDRAWN


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_expired_and_revoked_links_get_a_410_page_and_record_nothing(client, link, purposes, how):
    if how == "expired":
        link.expires_at = timezone.now() - timedelta(seconds=1)
        link.save()
    else:
        services.consent_link_revoke(link=link)
    get = client.get(_url(link))
    post = client.post(_url(link), {"purposes": [purposes["marketing"].pk]})
    withdraw = client.post(_url(link, "_withdraw"), {"purpose": purposes["marketing"].pk})
    assert (get.status_code, post.status_code, withdraw.status_code) == (410, 410, 410)
    assert "Lucía" not in get.content.decode()
    assert "Clínica" not in get.content.decode()
    assert not ConsentEvent.objects.exists()


def test_an_unknown_token_gets_a_404_page(client, link):
    response = client.get(reverse("consents:public", kwargs={"token": "x" * 32}))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_too_many_requests_get_a_429_page_in_the_visitors_language(client, link, settings):
    settings.CONSENT_RATE_GET_PER_IP = 3
    statuses = [client.get(_url(link)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(_url(link), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Demasiados intentos" in response.content.decode()


def test_one_token_is_limited_whatever_the_ip(client, link, settings):
    settings.CONSENT_RATE_PER_TOKEN = 2
    statuses = [client.get(_url(link), REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


@pytest.fixture
def poster(org, purposes, dpo):
    return services.consent_link_create(
        organisation=org, created_by=dpo, purposes=[purposes["marketing"]], label="Recepción"
    )


def test_a_generic_link_with_a_phone_in_any_format_creates_then_finds_one_subject(
    client, org, poster, purposes
):
    for phone in ("600 98 76 54", "+34 600987654", "0034-600-987-654"):
        response = client.post(
            _url(poster),
            {"full_name": "Ana Ruiz", "phone": phone, "purposes": [purposes["marketing"].pk]},
        )
        assert response.status_code == 302
    (subject,) = DataSubject.objects.filter(organisation=org)
    assert subject.phone.as_e164 == "+34600987654"
    (event,) = ConsentEvent.objects.all()
    assert event.by_subject is True
    assert event.subject == subject


def test_a_generic_link_reveals_nothing_about_a_known_number(client, person, poster, purposes):
    grant(person, purposes["marketing"], purposes["es"])
    known = client.post(
        _url(poster),
        {"full_name": "Alguien", "phone": "600 12 34 56", "purposes": [purposes["marketing"].pk]},
        follow=True,
    )
    unknown = client.post(
        _url(poster),
        {"full_name": "Alguien", "phone": "600 55 44 33", "purposes": [purposes["marketing"].pk]},
        follow=True,
    )
    for response in (known, unknown):
        html = response.content.decode()
        assert "Lucía" not in html
        assert 'data-testid="withdraw"' not in html
        assert "Thank you" in html or "Gracias" in html
    person.refresh_from_db()
    assert person.full_name == "Lucía Pérez"


def test_a_generic_link_refuses_a_mistyped_number_and_records_nothing(client, poster, purposes):
    response = client.post(
        _url(poster),
        {"full_name": "Ana", "phone": "600ABC123", "purposes": [purposes["marketing"].pk]},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def _staff_logged(person, purposes, staff):
    return services.consent_capture(
        organisation=person.organisation,
        person=PersonDetails(
            phone=person.phone, full_name=person.full_name, kind=DataSubject.Kind.CUSTOMER
        ),
        act=ConsentAct(
            recorded_by=staff,
            decisions=[Decision(purposes["marketing"], Action.GRANTED, purposes["es"])],
            channel=Channel.PHONE_CALL,
            idempotency_key="staff-call-1",
        ),
    ).events[0]


def test_confirming_a_staff_logged_consent_references_the_staff_event(
    client_for, link, person, purposes, staff, dpo
):
    staff_event = _staff_logged(person, purposes, staff)
    client = client_for(None)
    page = client.get(_url(link)).content.decode()
    assert 'data-testid="withdraw"' in page
    client.post(_url(link), {"purposes": [purposes["marketing"].pk]})
    confirmation = ConsentEvent.objects.get(confirms=staff_event)
    assert confirmation.action == Action.GRANTED
    assert confirmation.by_subject is True
    assert confirmation.channel == Channel.WEB_FORM
    subject_page = client_for(dpo).get(
        reverse("consents:subject", kwargs={"org_slug": "clinic", "pk": person.pk})
    )
    html = subject_page.content.decode()
    assert "confirmed by the person" in html
    assert f"confirms #{staff_event.sequence}" in html


def test_a_person_confirms_once_then_a_second_submit_records_nothing(
    client, link, person, purposes, staff
):
    _staff_logged(person, purposes, staff)
    client.post(_url(link), {"purposes": [purposes["marketing"].pk]})
    client.post(_url(link), {"purposes": [purposes["marketing"].pk]})
    assert ConsentEvent.objects.filter(subject=person).count() == 2


def test_the_register_filters_confirmed_and_awaiting_consent(
    client_for, org, link, person, purposes, staff, dpo
):
    _staff_logged(person, purposes, staff)
    waiting = DataSubjectFactory(organisation=org, full_name="Pedro Espera")
    grant(
        waiting, purposes["marketing"], purposes["es"], channel=Channel.IN_PERSON, recorded_by=staff
    )
    client_for(None).post(_url(link), {"purposes": [purposes["marketing"].pk]})
    client = client_for(dpo)
    url = reverse("consents:register", kwargs={"org_slug": "clinic"})
    confirmed = client.get(url, {"confirmation": "confirmed"}).content.decode()
    awaiting = client.get(url, {"confirmation": "awaiting"}).content.decode()
    assert "Lucía Pérez" in confirmed and "Pedro Espera" not in confirmed
    assert "Pedro Espera" in awaiting and "Lucía Pérez" not in awaiting
    assert "awaiting confirmation" in awaiting


@pytest.mark.parametrize(
    ("language", "word"), [("es", "consentimiento"), ("ar", "موافقتك"), ("en", "consent")]
)
def test_the_whatsapp_button_carries_the_number_and_a_message_in_the_persons_language(
    client_for, org, person, link, staff, language, word
):
    person.preferred_language = language
    person.save()
    html = (
        client_for(staff)
        .get(reverse("consents:subject", kwargs={"org_slug": "clinic", "pk": person.pk}))
        .content.decode()
    )
    start = html.index("https://wa.me/34600123456?text=")
    href = unquote(html[start : html.index('"', start)].replace("&amp;", "&"))
    assert word in href
    assert link.token in href
    assert 'src="data:image/png;base64,' in html


def test_the_receipt_offers_the_persons_link(client_for, person, purposes, staff):
    event = _staff_logged(person, purposes, staff)
    html = (
        client_for(staff)
        .get(
            reverse("consents:receipt", kwargs={"org_slug": "clinic", "key": event.idempotency_key})
        )
        .content.decode()
    )
    assert 'data-testid="send-whatsapp"' in html
    assert person.consent_links.filter(revoked_at=None).count() == 1


def test_staff_create_and_revoke_a_personal_link(client_for, person, purposes, staff):
    client = client_for(staff)
    client.post(reverse("consents:link_create", kwargs={"org_slug": "clinic", "pk": person.pk}))
    link = person.consent_links.get()
    client.post(reverse("consents:link_revoke", kwargs={"org_slug": "clinic", "pk": link.pk}))
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert client.get(_url(link)).status_code == 410
    from accounts.models import AuditEntry

    revoked = AuditEntry.objects.get(register="consentlink", action="revoked")
    assert revoked.user == staff and revoked.ip_address == "127.0.0.1"
    created = AuditEntry.objects.get(register="consentlink", action="created")
    assert created.user == staff and created.ip_address == "127.0.0.1"
    assert created.object_id == str(link.pk)


def test_the_dpo_creates_a_poster_link_with_a_qr_code(client_for, purposes, dpo):
    client = client_for(dpo)
    response = client.post(
        reverse("consents:generic_links", kwargs={"org_slug": "clinic"}),
        {"label": "Recepción", "purposes": [purposes["marketing"].pk], "days": 60},
        follow=True,
    )
    assert 'data-testid="poster-qr"' in response.content.decode()
    from consents.models import ConsentLink

    link = ConsentLink.objects.get(kind="generic")
    assert (link.expires_at - link.created_at).days == 60
