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


def group_with_notice(org, **fields) -> WhatsAppGroup:
    """A group whose purpose has a published notice in Spanish and English."""
    group = WhatsAppGroupFactory(organisation=org, **fields)
    published_notice(
        purposes=[group.purpose],
        language="es",
        title="Grupo de pacientes",
        summary="Le uniremos al grupo; los demás verán su nombre y número.",
        text="WhatsApp transfiere datos a EE. UU.",
    )
    published_notice(
        purposes=[group.purpose],
        language="en",
        title="Patients' group",
        summary="You join the group; the others see your name and number.",
        text="WhatsApp transfers data to the United States.",
    )
    return group


class StaffAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAccount

    phone = factory.Sequence(lambda n: f"+34611{n:06d}")
    number_type = StaffAccount.NumberType.BUSINESS
    app = StaffAccount.App.WHATSAPP_BUSINESS
