"""A poster or an invite cannot turn someone's recorded refusal or withdrawal into a grant
(consents.rules.ensure_attributable): the answer waits for their personal link."""

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubject,
    UnconfirmedAnswer,
)
from groups.models import GroupMembership
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice
from tests.groups.factories import group_with_notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def marketing(org):
    purpose = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    published_notice(purposes=[purpose])
    return purpose


@pytest.fixture
def person(org):
    return DataSubjectFactory(organisation=org, full_name="Lucía Pérez", phone="+34600123456")


def _answer(org, person, purpose, action):
    notice = published_notice(purposes=[purpose], version=f"v-{action}")
    return services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=person,
            decisions=[Decision(purpose, action, notice if action == Action.GRANTED else None)],
            channel=Channel.WHATSAPP,
        ),
    )


@pytest.fixture
def poster(org, marketing, dpo):
    return services.consent_link_create(
        organisation=org, created_by=dpo, purposes=[marketing], label="Recepción"
    )


def _submit(client, link, purpose, phone="600 12 34 56"):
    return client.post(
        reverse("consents:public", kwargs={"token": link.token}),
        {"full_name": "Alguien", "phone": phone, "purposes": [purpose.pk]},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Poster phone",
        follow=True,
    )


@pytest.mark.parametrize("earlier", [Action.REFUSED, Action.WITHDRAWN])
def test_a_poster_never_overturns_a_recorded_refusal_or_withdrawal(
    client, org, person, marketing, poster, earlier
):
    if earlier == Action.WITHDRAWN:
        _answer(org, person, marketing, Action.GRANTED)
    _answer(org, person, marketing, earlier)
    events_before = ConsentEvent.objects.count()

    response = _submit(client, poster, marketing)

    assert response.status_code == 200
    assert ConsentEvent.objects.count() == events_before
    assert ConsentState.objects.get(subject=person, purpose=marketing).action == earlier
    answer = UnconfirmedAnswer.objects.get()
    assert answer.subject == person and answer.purpose == marketing
    assert answer.status == UnconfirmedAnswer.Status.PENDING
    assert answer.ip_address == "198.51.100.4" and answer.user_agent == "Poster phone"
    assert answer.source == "Recepción" and answer.channel == Channel.WEB_FORM


def test_the_poster_says_the_same_words_for_a_known_and_an_unknown_number(
    client, org, person, marketing, poster
):
    _answer(org, person, marketing, Action.REFUSED)
    known = _submit(client, poster, marketing).content.decode()
    unknown = _submit(client, poster, marketing, phone="600 55 44 33").content.decode()
    for html in (known, unknown):
        assert "will send you your personal link to confirm it" in html or "Gracias" in html
    assert DataSubject.objects.get(phone="+34600554433").events.count() == 1


def test_a_grant_through_the_persons_own_link_confirms_the_waiting_answer(
    client, org, person, marketing, poster, dpo
):
    _answer(org, person, marketing, Action.REFUSED)
    _submit(client, poster, marketing)
    own = services.consent_link_create(organisation=org, created_by=dpo, subject=person)

    client.post(
        reverse("consents:public", kwargs={"token": own.token}), {"purposes": [marketing.pk]}
    )

    state = ConsentState.objects.get(subject=person, purpose=marketing)
    assert state.action == Action.GRANTED and state.event.by_subject
    answer = UnconfirmedAnswer.objects.get()
    assert answer.status == UnconfirmedAnswer.Status.CONFIRMED
    assert answer.resolved_event == state.event


def test_the_dpo_sees_the_waiting_answers_and_can_dismiss_one(
    client_for, client, org, person, marketing, poster, dpo, auditor
):
    _answer(org, person, marketing, Action.REFUSED)
    _submit(client, poster, marketing)
    listing = client_for(auditor).get(reverse("consents:unconfirmed", args=["clinic"]))
    assert listing.content.decode().count('data-testid="unconfirmed-row"') == 1
    assert "Lucía Pérez" in listing.content.decode()

    dashboard = client_for(dpo).get(reverse("accounts:dashboard", args=["clinic"])).content
    assert b'data-testid="unconfirmed-card"' in dashboard

    answer = UnconfirmedAnswer.objects.get()
    dpo_client = client_for(dpo)
    dpo_client.post(reverse("consents:unconfirmed_dismiss", args=["clinic", answer.pk]))
    answer.refresh_from_db()
    assert answer.status == UnconfirmedAnswer.Status.DISMISSED and answer.resolved_by == dpo
    assert AuditEntry.objects.filter(register="unconfirmedanswer", user=dpo).exists()
    again = dpo_client.post(
        reverse("consents:unconfirmed_dismiss", args=["clinic", answer.pk]), follow=True
    )
    assert "handled already" in again.content.decode()
    dashboard = dpo_client.get(reverse("accounts:dashboard", args=["clinic"])).content
    assert b'data-testid="unconfirmed-card"' not in dashboard


def test_an_invite_for_a_number_that_withdrew_waits_for_confirmation_without_whatsapp(
    client, org, person
):
    group = group_with_notice(org, name="Pacientes ortodoncia")
    _answer(org, person, group.purpose, Action.GRANTED)
    _answer(org, person, group.purpose, Action.WITHDRAWN)
    url = reverse("groups:invite", args=[group.invite_token])
    key = client.get(url).context["form"]["idempotency_key"].value()

    response = client.post(
        url,
        {"full_name": "Alguien", "phone": "600 12 34 56", "join": "on", "idempotency_key": key},
    )

    assert response.status_code == 200
    assert group.invite_url not in response.content.decode()
    assert not GroupMembership.objects.filter(group=group, consent_event__isnull=False).exists()
    assert ConsentState.objects.get(subject=person, purpose=group.purpose).action == "withdrawn"
    assert UnconfirmedAnswer.objects.get().source == str(group)


def test_an_invite_shows_a_notice_where_the_consent_page_would(client, org):
    # The invite used to look only in the visitor's and the organisation's language: with the
    # group's notice in English only, a Spanish visitor could not join at all.
    from tests.groups.factories import WhatsAppGroupFactory

    group = WhatsAppGroupFactory(organisation=org, name="Expats")
    published_notice(
        purposes=[group.purpose],
        language="en",
        title="Patients' group",
        summary="You join the group; the others see your name and number.",
    )
    response = client.get(
        reverse("groups:invite", args=[group.invite_token]), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "You join the group" in response.content.decode()


def test_a_customer_is_never_offered_a_purpose_for_employees(client, org, person, dpo):
    PurposeFactory(organisation=org, code="newsletter", name="Boletín")
    team = PurposeFactory(organisation=org, code="team", name="Grupo del equipo")
    team.audience = DataSubject.Kind.EMPLOYEE
    team.save()
    for purpose in (team, *org.purposes.exclude(pk=team.pk)):
        published_notice(purposes=[purpose], version=f"n-{purpose.code}")

    link = services.consent_link_create(organisation=org, created_by=dpo, subject=person)

    assert "team" not in set(link.purposes.values_list("code", flat=True))
    html = client.get(reverse("consents:public", kwargs={"token": link.token})).content.decode()
    assert "Boletín" in html and "Grupo del equipo" not in html
    with pytest.raises(Exception, match="only for people"):
        services.consent_link_create(
            organisation=org, created_by=dpo, subject=person, purposes=[team]
        )
    with pytest.raises(Exception, match="only for people"):
        _answer(org, person, team, Action.GRANTED)
