"""Demo organisation: a Spanish dental clinic with a DPO, a staff member and an auditor.

Idempotent: a second run finds what exists and changes nothing (passwords a person has changed
stay changed). Other apps add their own demo data in ``<app>/demo.py`` with a ``load()`` function.
"""

from django.db import transaction

from .models import Membership, Organisation, User
from .roles import Role

ORGANISATION = {
    "slug": "clinica-sonrisa",
    "legal_name": "Clínica Dental Sonrisa S.L.",
    "tax_id": "B87654321",
    "address": "Calle de Alcalá 123, 28009 Madrid",
    "country": "ES",
    "contact_email": "info@clinicasonrisa.example",
    "dpo_name": "Lucía Fernández Ortega",
    "dpo_email": "dpo@clinicasonrisa.example",
    "default_language": "es",
}

LOGINS = [
    ("dpo@demo.constancia.test", "Lucía Fernández", Role.DPO, "demo-dpo-2026"),
    ("staff@demo.constancia.test", "Javier Morales", Role.STAFF, "demo-staff-2026"),
    ("auditor@demo.constancia.test", "Amira El Idrissi", Role.AUDITOR, "demo-auditor-2026"),
]


@transaction.atomic
def load() -> tuple[Organisation, list[tuple[str, str, str, bool]]]:
    slug = ORGANISATION["slug"]
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        organisation = Organisation(**ORGANISATION)
        organisation.full_clean()
        organisation.save()
    logins = []
    for email, name, role, password in LOGINS:
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User.objects.create_user(email, password, full_name=name)
        Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        logins.append((email, password, str(role.label), created))
    return organisation, logins
