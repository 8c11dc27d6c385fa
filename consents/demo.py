"""Demo register for the dental clinic: WhatsApp purposes, notices in Spanish and English, and a
few hundred people with realistic histories (grants, refusals, withdrawals, several channels).

Idempotent: runs once per organisation; a second run finds the purposes and changes nothing.
Events are appended through consents.services like any other, so the demo ledger verifies.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role

from . import selectors, services
from .acts import ConsentAct, Decision, withdrawal
from .models import Action, Channel, DataSubject, NoticeVersion, Purpose, PurposeCategory
from .phones import parse_phone

PURPOSES = [
    (
        "marketing",
        "Promociones por WhatsApp",
        PurposeCategory.MARKETING,
        24,
        "Ofertas y campañas de la clínica (LSSI art. 21: requiere consentimiento previo).",
    ),
    (
        "informational",
        "Información de la clínica",
        PurposeCategory.INFORMATIONAL,
        24,
        "Cambios de horario, cierres y avisos generales.",
    ),
    (
        "appointments",
        "Recordatorio de citas",
        PurposeCategory.APPOINTMENTS,
        12,
        "Confirmación y recordatorio de citas por WhatsApp.",
    ),
    (
        "documents",
        "Envío de documentos",
        PurposeCategory.DOCUMENTS,
        60,
        "Presupuestos, facturas e informes enviados por WhatsApp.",
    ),
    (
        "group-ortho",
        "Grupo «Pacientes ortodoncia»",
        PurposeCategory.GROUP_MEMBERSHIP,
        12,
        "Pertenencia al grupo de WhatsApp de pacientes de ortodoncia.",
    ),
]

TRANSFER_ES = (
    "WhatsApp es un servicio de WhatsApp Ireland Ltd. (grupo Meta); sus datos pueden transferirse "
    "a Estados Unidos al amparo del Marco de Privacidad de Datos UE-EE. UU. y de cláusulas "
    "contractuales tipo."
)
TRANSFER_EN = (
    "WhatsApp is provided by WhatsApp Ireland Ltd. (Meta group); your data may be transferred to "
    "the United States under the EU-US Data Privacy Framework and standard contractual clauses."
)

# What each demo notice records in its transfer fields (GDPR Art. 13(1)(f)).
TRANSFER_SAFEGUARDS = {
    "es": "Estados Unidos (WhatsApp, grupo Meta): Marco de Privacidad de Datos UE-EE. UU. y "
    "cláusulas contractuales tipo.",
    "en": "United States (WhatsApp, Meta group): EU-US Data Privacy Framework and standard "
    "contractual clauses.",
}

FIRST = [
    "Ana",
    "Lucía",
    "Carmen",
    "Javier",
    "Pablo",
    "María",
    "José",
    "Elena",
    "Sergio",
    "Marta",
    "Hugo",
    "Paula",
    "Álvaro",
    "Nuria",
    "Iñaki",
    "Fátima",
    "Youssef",
    "Mariam",
    "Chen",
    "Irene",
    "Raúl",
    "Laura",
    "Diego",
    "Sofía",
    "Andrés",
    "Aitana",
    "Omar",
    "Noa",
]
LAST = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Fernández",
    "Ruiz",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Domínguez",
    "Gil",
    "Vázquez",
    "Serrano",
    "Ramos",
    "Blanco",
    "El Amrani",
    "Benali",
    "Ortega",
]
ARABIC = ["مريم العلوي", "يوسف بنعلي", "فاطمة الزهراء", "عمر الإدريسي", "سلمى حداد"]
QUOTES = ["Sí, acepto", "Vale, de acuerdo", "Sí 👍", "Acepto, gracias", "Ok, sí", "Yes, I agree"]
SUBJECTS = 300


def _notice_text(purpose_name, description, language, org):
    if language == "es":
        return (
            f"Responsable: {org.legal_name} ({org.tax_id}), {org.address}. "
            f"Delegada de protección de datos: {org.dpo_name} <{org.dpo_email}>.\n\n"
            f"Finalidad: {purpose_name}. {description}\n\n"
            "Base jurídica: su consentimiento (RGPD art. 6.1.a), que puede retirar en cualquier "
            "momento, con la misma facilidad con que lo dio, sin que afecte a lo ya tratado.\n\n"
            f"Destinatarios y transferencias: {TRANSFER_ES}\n\n"
            "Conservación: mientras mantenga el consentimiento y, después, el plazo de "
            "prescripción de las responsabilidades legales.\n\n"
            "Derechos: acceso, rectificación, supresión, oposición, limitación y portabilidad "
            f"escribiendo a {org.dpo_email}. Puede reclamar ante la Agencia Española de "
            "Protección de Datos (www.aepd.es)."
        )
    return (
        f"Controller: {org.legal_name} ({org.tax_id}), {org.address}. "
        f"Data protection officer: {org.dpo_name} <{org.dpo_email}>.\n\n"
        f"Purpose: {purpose_name}. {description}\n\n"
        "Legal basis: your consent (GDPR Art. 6(1)(a)), which you may withdraw at any time as "
        "easily as you gave it, without affecting earlier processing.\n\n"
        f"Recipients and transfers: {TRANSFER_EN}\n\n"
        "Retention: while your consent lasts and then for the statutory limitation periods.\n\n"
        f"Your rights: access, rectification, erasure, objection, restriction and portability by "
        f"writing to {org.dpo_email}. You may complain to the Spanish Data Protection Agency "
        "(www.aepd.es)."
    )


def _publish(org, purposes, language, version, title, summary, published_at, description):
    notice = NoticeVersion(
        organisation=org,
        language=language,
        version=version,
        title=title,
        summary=summary,
        text=_notice_text(", ".join(p.name for p in purposes), description, language, org),
        # The text says so in its "Recipients and transfers" paragraph.
        informs_international_transfers=True,
        transfer_safeguards=TRANSFER_SAFEGUARDS[language],
    )
    notice.sha256 = notice.content_digest()
    # Demo notices are created already published at a date in the past, so histories read true.
    notice.published_at = published_at
    notice.save()
    notice.purposes.set(purposes)
    return notice


@transaction.atomic
def load(*, organisation):
    if Purpose.objects.filter(organisation=organisation).exists():
        return "purposes exist already: consent demo left as it is"
    rng = random.Random(2026)
    now = timezone.now()
    purposes = {}
    for code, name, category, months, description in PURPOSES:
        purposes[code] = Purpose.objects.create(
            organisation=organisation,
            code=code,
            name=name,
            category=category,
            retention_months=months,
            description=description,
        )
    notices = {}
    start = now - timedelta(days=540)
    for code, purpose in purposes.items():
        for language in ("es", "en"):
            summary = (
                f"Usaremos su número de WhatsApp para: {purpose.description}"
                if language == "es"
                else f"We will use your WhatsApp number for: {purpose.name}."
            )
            notices[(code, language)] = [
                _publish(
                    organisation,
                    [purpose],
                    language,
                    "2025-06",
                    purpose.name,
                    summary,
                    start,
                    purpose.description,
                )
            ]
    # Marketing notice revised in March 2026: earlier consents are listed "to renew".
    for language in ("es", "en"):
        purpose = purposes["marketing"]
        summary = (
            "Ofertas y campañas por WhatsApp; puede darse de baja respondiendo BAJA."
            if language == "es"
            else "Offers and campaigns on WhatsApp; reply STOP to opt out."
        )
        notices[("marketing", language)].append(
            _publish(
                organisation,
                [purpose],
                language,
                "2026-03",
                purpose.name,
                summary,
                now - timedelta(days=260),
                purpose.description + " Baja: responda BAJA.",
            )
        )

    staff = [
        m.user
        for m in Membership.objects.filter(
            organisation=organisation, role__in=[Role.STAFF, Role.DPO]
        ).select_related("user")
    ]
    channels = (
        [Channel.WHATSAPP] * 5
        + [Channel.IN_PERSON] * 3
        + [Channel.PAPER_FORM, Channel.PHONE_CALL, Channel.EMAIL]
    )
    events = 0
    for i in range(SUBJECTS):
        if i % 60 == 7:
            name = ARABIC[i % len(ARABIC)]
            language = "en"
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            language = "es" if rng.random() < 0.85 else "en"
        phone = parse_phone(f"6{rng.randrange(10**7, 10**8)}", "ES")
        if DataSubject.objects.filter(organisation=organisation, phone=phone).exists():
            continue
        is_minor = i % 25 == 3
        subject = DataSubject.objects.create(
            organisation=organisation,
            full_name=name,
            phone=phone,
            kind=DataSubject.Kind.EMPLOYEE if i % 40 == 0 else DataSubject.Kind.CUSTOMER,
            preferred_language=language,
            is_minor=is_minor,
            guardian_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}" if is_minor else "",
        )
        when = start + timedelta(days=rng.randrange(0, 530), minutes=rng.randrange(0, 600))
        chosen = rng.sample(list(purposes), k=rng.randint(1, 4))
        channel = rng.choice(channels)
        proof = services.proof_create(
            organisation=organisation,
            subject=subject,
            quote=rng.choice(QUOTES) if channel == Channel.WHATSAPP else "",
            note="Formulario firmado en recepción" if channel == Channel.PAPER_FORM else "",
        )
        decisions = []
        for code in chosen:
            shown = [n for n in notices[(code, language)] if n.published_at <= when][-1:]
            notice = shown[0] if shown else notices[(code, language)][0]
            action = Action.REFUSED if rng.random() < 0.12 else Action.GRANTED
            decisions.append(Decision(purposes[code], action, notice))
        recorded = services.consent_record(
            organisation=organisation,
            act=ConsentAct(
                subject=subject,
                decisions=decisions,
                channel=channel,
                captured_at=when,
                recorded_by=rng.choice(staff),
                proof=proof,
                given_by="guardian" if is_minor else "subject",
            ),
        )
        events += len(recorded)
        for event in recorded:
            if event.action == Action.GRANTED and rng.random() < 0.1:
                later = min(when + timedelta(days=rng.randrange(5, 200)), now)
                services.consent_withdraw(
                    organisation=organisation,
                    act=ConsentAct(
                        subject=subject,
                        decisions=withdrawal(event.purpose),
                        channel=rng.choice([Channel.WHATSAPP, Channel.PHONE_CALL, Channel.EMAIL]),
                        recorded_by=rng.choice(staff),
                        captured_at=later,
                    ),
                )
                events += 1
    services.ledger_verify(organisation=organisation, triggered_by="demo load")
    return f"{len(purposes)} purposes, {SUBJECTS} people, {events} consent events"


def finish(*, organisation) -> None:
    """After every app's demo: check the ledger again if other demos recorded events since this
    one's check (group joins, requests), so that a new demo starts with its whole ledger checked
    rather than "5 events recorded since, not yet checked"."""
    last = organisation.integrity_checks.first()
    if last is None or selectors.events_since_check(organisation, last):
        services.ledger_verify(organisation=organisation, triggered_by="demo load")
