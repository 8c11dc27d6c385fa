import factory

from consents.models import PurposeCategory
from groups.models import StaffAccount, WhatsAppGroup
from tests.consents.factories import PurposeFactory, published_notice


def group_purpose(org, **fields):
    return PurposeFactory(organisation=org, category=PurposeCategory.GROUP_MEMBERSHIP, **fields)


class WhatsAppGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppGroup

    name = factory.Sequence(lambda n: f"Grupo {n}")
    purpose = factory.LazyAttribute(lambda o: group_purpose(o.organisation))
    kind = WhatsAppGroup.Kind.CUSTOMERS
    invite_url = factory.Sequence(lambda n: f"https://chat.whatsapp.com/AbCdEfGhIjKlMnOp{n:06d}")


# language: (title, summary, text) of the notice group_with_notice publishes in it.
GROUP_NOTICES = {
    "es": (
        "Grupo de pacientes",
        "Le uniremos al grupo; los demás verán su nombre y número.",
        "WhatsApp transfiere datos a EE. UU.",
    ),
    "en": (
        "Patients' group",
        "You join the group; the others see your name and number.",
        "WhatsApp transfers data to the United States.",
    ),
}


def group_with_notice(org, **fields) -> WhatsAppGroup:
    """A group whose purpose has a published notice in Spanish and English."""
    group = WhatsAppGroupFactory(organisation=org, **fields)
    for language, (title, summary, text) in GROUP_NOTICES.items():
        published_notice(
            purposes=[group.purpose], language=language, title=title, summary=summary, text=text
        )
    return group


class StaffAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAccount

    phone = factory.Sequence(lambda n: f"+34611{n:06d}")
    number_type = StaffAccount.NumberType.BUSINESS
    app = StaffAccount.App.WHATSAPP_BUSINESS
