import factory

from consents.models import DataSubject, NoticeVersion, Purpose, PurposeCategory
from consents.services import notice_publish
from tests.accounts.factories import OrganisationFactory


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purpose

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"purpose-{n}")
    name = factory.Sequence(lambda n: f"Purpose {n}")
    category = PurposeCategory.MARKETING


class NoticeVersionFactory(factory.django.DjangoModelFactory):
    """A draft notice; ``published_notice`` below gives a published one."""

    class Meta:
        model = NoticeVersion
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    language = "es"
    version = factory.Sequence(lambda n: f"v{n}")
    title = "Aviso de privacidad"
    summary = "Usamos su número para enviarle ofertas por WhatsApp."
    text = "Responsable, finalidades, base jurídica, destinatarios, transferencias y derechos."

    @factory.post_generation
    def purposes(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.purposes.set(extracted)


def published_notice(*, purposes, **fields) -> NoticeVersion:
    organisation = purposes[0].organisation
    notice = NoticeVersionFactory(organisation=organisation, purposes=purposes, **fields)
    return notice_publish(notice=notice)


class DataSubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubject

    organisation = factory.SubFactory(OrganisationFactory)
    full_name = factory.Sequence(lambda n: f"Persona {n}")
    phone = factory.Sequence(lambda n: f"+34600{n:06d}")
