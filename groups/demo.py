"""Demo groups for the dental clinic: two WhatsApp groups (patients, with members added by number
who never consented; and the team), staff accounts (one on a personal number) and a published
usage policy acknowledged by some members, so the DPO's checklist shows real figures.

Idempotent: a second run finds the groups and changes nothing. Runs after consents.demo.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from consents.acts import ConsentAct, Decision
from consents.models import (
    Action,
    Channel,
    ConsentState,
    DataSubject,
    NoticeVersion,
    Purpose,
    PurposeCategory,
)
from consents.phones import parse_phone

from . import services
from .models import GroupMembership, StaffAccount, UsagePolicyVersion, WhatsAppGroup

POLICY = """Normas internas de uso de WhatsApp con pacientes

1. Solo se usan los números de empresa de la clínica, en WhatsApp Business; nunca el
   número personal.
2. No se añade a nadie a un grupo por su número: se comparte el enlace de invitación, que pide
   su consentimiento antes de entrar.
3. En los grupos con pacientes no se comparten datos personales ni de salud de nadie.
4. Los presupuestos, informes y facturas se envían solo a quien haya consentido el envío de
   documentos, y por chat individual.
5. Si un móvil se pierde, se avisa a la delegada de protección de datos el mismo día."""

TEAM_NOTICE = (
    "Responsable: la clínica. Finalidad: coordinar turnos del equipo en un grupo de WhatsApp, "
    "voluntario. WhatsApp puede transferir datos a Estados Unidos (Marco de Privacidad de Datos)."
)


def _team_purpose(organisation):
    purpose, created = Purpose.objects.get_or_create(
        organisation=organisation,
        code="group-team",
        defaults={
            "name": "Grupo «Equipo clínica»",
            "category": PurposeCategory.GROUP_MEMBERSHIP,
            "audience": DataSubject.Kind.EMPLOYEE,
            "retention_months": 12,
            "description": "Pertenencia voluntaria al grupo de WhatsApp del equipo.",
        },
    )
    if created:
        notice = NoticeVersion(
            organisation=organisation,
            language="es",
            version="2025-09",
            title=purpose.name,
            summary="Grupo voluntario del equipo para turnos y avisos internos.",
            text=TEAM_NOTICE,
            informs_international_transfers=True,
            transfer_safeguards=(
                "Estados Unidos (WhatsApp): Marco de Privacidad de Datos UE-EE. UU."
            ),
        )
        notice.sha256 = notice.content_digest()
        notice.published_at = timezone.now() - timedelta(days=200)
        notice.save()
        notice.purposes.set([purpose])
    return purpose


@transaction.atomic
def load(*, organisation):
    if WhatsAppGroup.objects.filter(organisation=organisation).exists():
        return "groups exist already: groups demo left as it is"
    ortho_purpose = Purpose.objects.filter(organisation=organisation, code="group-ortho").first()
    if ortho_purpose is None:
        return "no group purpose (load the consents demo first)"
    members = {
        m.role: m
        for m in Membership.objects.filter(organisation=organisation).select_related("user")
    }
    reception = StaffAccount.objects.create(
        organisation=organisation,
        phone=parse_phone("+34 910 00 00 01", "ES"),
        label="Recepción",
        employee=members.get(Role.STAFF),
        number_type=StaffAccount.NumberType.BUSINESS,
        app=StaffAccount.App.WHATSAPP_BUSINESS,
    )
    personal = StaffAccount.objects.create(
        organisation=organisation,
        phone=parse_phone("+34 699 00 00 02", "ES"),
        label="Móvil de la doctora",
        employee=members.get(Role.DPO),
        number_type=StaffAccount.NumberType.PERSONAL,
        app=StaffAccount.App.CONSUMER,
    )
    ortho = WhatsAppGroup.objects.create(
        organisation=organisation,
        name="Pacientes ortodoncia",
        purpose=ortho_purpose,
        kind=WhatsAppGroup.Kind.CUSTOMERS,
        invite_url="https://chat.whatsapp.com/DemoOrtodonciaInvite2026",
    )
    ortho.admins.set([reception, personal])
    team = WhatsAppGroup.objects.create(
        organisation=organisation,
        name="Equipo clínica",
        purpose=_team_purpose(organisation),
        kind=WhatsAppGroup.Kind.EMPLOYEES,
        invite_url="https://chat.whatsapp.com/DemoEquipoClinicaInvite26",
    )
    team.admins.set([reception])

    now = timezone.now()
    # Patients who consented to the group join with their consent event; others were added by
    # number before the clinic used invite links, and stay flagged.
    consented = ConsentState.objects.filter(purpose=ortho_purpose, action=Action.GRANTED)
    for state in consented.select_related("subject", "event")[:12]:
        GroupMembership.objects.create(
            organisation=organisation,
            group=ortho,
            subject=state.subject,
            joined_via=GroupMembership.JoinedVia.INVITE_LINK_WITH_CONSENT,
            joined_at=state.captured_at,
            consent_event=state.event,
        )
    others = (
        DataSubject.objects.filter(organisation=organisation, kind=DataSubject.Kind.CUSTOMER)
        .active()
        .exclude(states__purpose=ortho_purpose)
        .order_by("pk")[:4]
    )
    for subject in others:
        services.group_member_add(
            group=ortho,
            phone=subject.phone,
            added_by=members.get(Role.STAFF).user,
            joined_at=now - timedelta(days=90),
        )
    team_notice = NoticeVersion.objects.to_show(team.purpose, "es")
    for subject in DataSubject.objects.filter(
        organisation=organisation, kind=DataSubject.Kind.EMPLOYEE
    ).order_by("pk")[:5]:
        services.group_join_via_invite(
            group=team,
            full_name=subject.full_name,
            phone=subject.phone,
            act=ConsentAct(
                decisions=[Decision(team.purpose, Action.GRANTED, team_notice)],
                channel=Channel.INVITE_LINK,
                by_subject=True,
                ip_address="192.0.2.10",
                user_agent="Demo",
            ),
            language="es",
        )

    policy = UsagePolicyVersion.objects.create(
        organisation=organisation, version="2026-01", text=POLICY
    )
    policy = services.policy_publish(policy=policy)
    dpo = members.get(Role.DPO)
    if dpo is not None:
        services.policy_acknowledge(policy=policy, user=dpo.user, ip_address="192.0.2.10")
    return "2 WhatsApp groups, 2 staff accounts, a published usage policy"
