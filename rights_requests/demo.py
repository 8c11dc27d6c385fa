"""Demo rights requests for the dental clinic: a dozen, in every state, with their letters.

Made through rights_requests.services like real ones, dated back from today so that one is
overdue, one extended, one answered late, one waiting with its clock stopped. Idempotent: runs
once per organisation. Needs the people of the consent demo (consents.demo), which loads first.

The withdrawal is carried out for real (rights_requests.fulfilment: the person's consents are
withdrawn in the ledger); the access copy answered in person is recorded only as the summary the
answer reports (services.request_carried_out), as a copy made outside the app would be.
"""

import functools
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from consents import services as consent_services
from consents.models import DataSubject

from . import fulfilment, letters, services
from .choices import (
    ErasureException,
    LetterKind,
    RequestChannel,
    Right,
    SentVia,
    VerificationMethod,
)
from .models import RequestLetter, RightsRequest


def _people(organisation) -> list[DataSubject]:
    subjects = DataSubject.objects.filter(organisation=organisation).active().order_by("pk")
    arabic = [s for s in subjects[:80] if any("\u0600" <= ch <= "\u06ff" for ch in s.full_name)]
    others = [s for s in subjects[:40] if s not in arabic]
    return arabic[:1] + others[:12]


def _letter(rights_request, kind, user, via=SentVia.WHATSAPP):
    return letters.letter_create_and_send(
        rights_request=rights_request,
        kind=kind,
        body=letters.default_body(rights_request, kind),
        user=user,
        via=via,
    )


def _log(organisation, user, subject, *, days_ago, **fields):
    fields.setdefault("phone", subject.phone)
    return services.request_log(
        organisation=organisation,
        user=user,
        received_on=timezone.localdate() - timedelta(days=days_ago),
        **fields,
    )


@transaction.atomic
def load(*, organisation):
    if RightsRequest.objects.filter(organisation=organisation).exists():
        return "requests exist already: rights-request demo left as it is"
    people = _people(organisation)
    members = {m.role: m.user for m in Membership.objects.filter(organisation=organisation)}
    dpo, staff = members.get(Role.DPO), members.get(Role.STAFF) or members.get(Role.DPO)
    if len(people) < 13 or dpo is None:
        return "not enough people on record: rights-request demo skipped"
    arabic, *people = people
    log = functools.partial(_log, organisation, staff)  # staff log the requests that came in

    # 1. From the personal link, in Arabic: "see my data" (identity comes with the link).
    link = consent_services.consent_link_for_subject(subject=arabic, created_by=dpo)
    services.request_from_link(link=link, right=Right.ACCESS, language="ar")

    # 2. Public form, identity to verify, identification asked for.
    rr = services.request_from_public_form(
        organisation=organisation,
        right=Right.ERASURE,
        name=people[0].full_name,
        phone=people[0].phone,
        details="Quiero que borren todos mis datos.",
        language="es",
    )
    _letter(rr, LetterKind.IDENTITY, staff)

    # 3. WhatsApp from the number on record (verified), being handled by staff.
    rr = log(
        people[1],
        days_ago=10,
        right=Right.RECTIFICATION,
        channel=RequestChannel.WHATSAPP,
        details="Mi segundo apellido está mal escrito: es «Muñoz», no «Munoz».",
    )
    services.request_assign(rights_request=rr, handler=staff, user=dpo)
    _letter(rr, LetterKind.ACKNOWLEDGEMENT, staff)

    # 4. By e-mail, verified against the address on record, handled by the DPO.
    people[2].email = people[2].email or "paciente.demo@example.org"
    people[2].save()
    rr = log(
        people[2],
        days_ago=20,
        right=Right.OBJECTION,
        channel=RequestChannel.EMAIL,
        email=people[2].email,
        details="No quiero recibir más promociones.",
    )
    services.request_verify_identity(
        rights_request=rr, method=VerificationMethod.EMAIL_MATCH, user=staff
    )
    services.request_assign(rights_request=rr, handler=dpo, user=dpo)

    # 5. Extended by two months within the first month, the notice sent on WhatsApp.
    rr = log(
        people[3],
        days_ago=25,
        right=Right.ACCESS,
        channel=RequestChannel.WHATSAPP,
        details="Quiero copia de todo mi historial y de los mensajes.",
    )
    services.request_extend(
        rights_request=rr,
        months=2,
        reason="Su historial está repartido entre la clínica, el laboratorio y dos sistemas"
        " antiguos: reunirlo lleva más de un mes.",
        user=dpo,
        sent_via=SentVia.WHATSAPP,
    )

    # 6. Overdue: verified in person, never answered.
    rr = log(
        people[4],
        days_ago=40,
        right=Right.PORTABILITY,
        channel=RequestChannel.IN_PERSON,
        identity_method=VerificationMethod.ID_IN_PERSON,
        identity_note="DNI visto en recepción.",
    )
    services.request_assign(rights_request=rr, handler=staff, user=dpo)

    # 7. Answered on time, after the copy was made.
    rr = log(people[5], days_ago=15, right=Right.ACCESS, channel="whatsapp")
    _letter(rr, LetterKind.ACKNOWLEDGEMENT, staff)
    services.request_carried_out(
        rights_request=rr,
        what={"summary": "Copia de sus datos y de su historial de consentimientos (PDF y JSON)."},
        user=dpo,
    )
    services.request_answer(
        rights_request=rr,
        answer=letters.default_body(rr, LetterKind.ANSWER)
        + " Le entregamos la copia de sus datos adjunta.",
        user=dpo,
        sent_via=SentVia.IN_PERSON,
    )

    # 8. Erasure answered under Art. 17(3)(b): clinical records must be kept.
    rr = log(people[6], days_ago=12, right=Right.ERASURE, channel="whatsapp")
    services.request_answer(
        rights_request=rr,
        answer="Hemos dejado de usar sus datos para comunicaciones. Su historia clínica debe"
        " conservarse al menos cinco años desde el alta (Ley 41/2002, art. 17).",
        user=dpo,
        sent_via=SentVia.POST,
        erasure_exception=ErasureException.LEGAL_OBLIGATION,
    )

    # 9. Answered late.
    rr = log(people[7], days_ago=45, right=Right.WITHDRAWAL, channel="whatsapp")
    fulfilment.withdrawal_carry_out(rights_request=rr, user=dpo)
    services.request_answer(
        rights_request=rr,
        answer="Hemos retirado todos sus consentimientos. Sentimos el retraso.",
        user=dpo,
        sent_via=SentVia.WHATSAPP,
    )

    # 10. Refused: the person could not be identified.
    rr = log(
        people[8],
        days_ago=8,
        right=Right.ACCESS,
        channel=RequestChannel.PHONE,
        details="Llamada pidiendo los datos de un familiar.",
    )
    services.request_reject(
        rights_request=rr,
        reason="Quien llamó no pudo acreditar ser la persona titular de los datos ni su"
        " representante (RGPD art. 12(6) y 11(2)).",
        user=dpo,
        sent_via=SentVia.POST,
    )

    # 11. Withdrawn by the person.
    rr = log(people[9], days_ago=6, right=Right.RESTRICTION, channel="whatsapp")
    services.request_withdrawn(
        rights_request=rr, user=staff, note="Nos escribió que ya no lo necesita."
    )

    # 12. Identity asked for by post, the clock stopped meanwhile.
    rr = log(
        people[10],
        days_ago=4,
        right=Right.ERASURE,
        channel=RequestChannel.POST,
        details="Carta firmada pidiendo la supresión.",
    )
    _letter(rr, LetterKind.IDENTITY, staff, via=SentVia.POST)
    services.request_stop_clock(
        rights_request=rr, reason="Copia del DNI pedida por carta.", user=dpo
    )
    # The organisation had no requests before (checked above): all of them are the demo's.
    made = RightsRequest.objects.filter(organisation=organisation)
    letters_count = RequestLetter.objects.filter(request__in=made).count()
    return f"{made.count()} rights requests, {letters_count} letters"
