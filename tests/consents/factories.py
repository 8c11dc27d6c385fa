import datetime

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from consents.acts import ConsentAct, Decision, withdrawal
from consents.models import (
    Action,
    Channel,
    DataSubject,
    NoticeVersion,
    ProofFile,
    Purpose,
    PurposeCategory,
)
from consents.services import consent_record, consent_withdraw, notice_publish
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

    class Params:
        # Blocked after an erasure (LOPDGDD Art. 32): a blocked person always has a purge date.
        blocked = factory.Trait(
            status=DataSubject.Status.BLOCKED,
            blocked_at=factory.LazyFunction(timezone.now),
            purge_after=factory.LazyFunction(
                lambda: timezone.localdate() + datetime.timedelta(days=3 * 365)
            ),
        )


def grant(subject, purpose, notice, **act):
    """The person consents to one purpose, through the ledger service: its events.

    ``act`` holds the rest of the act (channel, captured_at, recorded_by, proof, ...); the
    channel is WhatsApp unless said.
    """
    act.setdefault("channel", Channel.WHATSAPP)
    return consent_record(
        organisation=subject.organisation,
        act=ConsentAct(
            subject=subject, decisions=[Decision(purpose, Action.GRANTED, notice)], **act
        ),
    )


def withdraw(subject, purpose, **act):
    """The person withdraws one purpose (GDPR Art. 7(3)), through the ledger service."""
    act.setdefault("channel", Channel.WHATSAPP)
    return consent_withdraw(
        organisation=subject.organisation,
        act=ConsentAct(subject=subject, decisions=withdrawal(purpose), **act),
    )


def proof_file(proof, name, content: bytes, *, rendition: bytes | None = None, **fields):
    """A file kept with ``proof``, stored as given: for tests about who may see it or what shows
    it, not about the checks consents.uploads makes (``fields``: content_type, sha256, ...)."""
    record = ProofFile(
        organisation=proof.organisation,
        proof=proof,
        original_name=name,
        size=len(content),
        **fields,
    )
    record.file.save(name, ContentFile(content), save=False)
    if rendition is not None:
        record.rendition.save(record.rendition_name, ContentFile(rendition), save=False)
    record.save()
    return record
