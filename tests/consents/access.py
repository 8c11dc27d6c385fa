"""Who may open each page of consents/urls.py (see tests/access.py)."""

from consents import services
from consents.models import Channel, DataSubject, Purpose
from tests.access import ALL, DPO, DPO_AUDITOR, DPO_STAFF, PUBLIC, Route, org_and_pk, org_only
from tests.consents.factories import (
    DataSubjectFactory,
    NoticeVersionFactory,
    PurposeFactory,
    grant,
    proof_file,
    published_notice,
)


def _consent(org) -> dict:
    """A person with a granted consent, a proof file and a draft notice."""
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org)
    proof = services.proof_create(organisation=org, subject=subject, quote="Sí, acepto")
    record = proof_file(
        proof, "form.pdf", b"%PDF-1.4\n", content_type="application/pdf", sha256="0" * 64
    )
    (event,) = grant(subject, purpose, notice, proof=proof, idempotency_key="access-matrix")
    draft = NoticeVersionFactory(organisation=org, purposes=[purpose])
    return {
        "purpose": purpose.pk,
        "subject": subject.pk,
        "notice": notice.pk,
        "draft": draft.pk,
        "file": record.pk,
        "key": event.idempotency_key,
    }


def _checkpoint(org) -> dict:
    """A verified ledger of one event, whose verification signed a checkpoint."""
    from consents.models import LedgerCheckpoint

    _consent(org)
    services.ledger_verify(organisation=org)
    return {"checkpoint": LedgerCheckpoint.objects.get(organisation=org).pk}


def _unconfirmed(org) -> dict:
    """A grant typed on a poster for a number whose refusal is on record."""
    from consents.models import UnconfirmedAnswer

    ctx = _consent(org)
    answer = UnconfirmedAnswer.objects.create(
        organisation=org,
        subject_id=ctx["subject"],
        purpose_id=ctx["purpose"],
        channel=Channel.WEB_FORM,
        source="Poster",
    )
    return ctx | {"answer": answer.pk}


def _photo(org) -> dict:
    """As _consent, plus a HEIC photo with its JPEG rendition."""
    from consents.models import Proof

    ctx = _consent(org)
    record = proof_file(
        Proof.objects.get(files=ctx["file"]),
        "IMG_0001.HEIC",
        b"\0\0\0\x18ftypheic",
        rendition=b"\xff\xd8\xff\xe0",
        content_type="image/heic",
        sha256="1" * 64,
        rendition_sha256="2" * 64,
    )
    return ctx | {"photo": record.pk}


def _personal_link(org) -> dict:
    ctx = _consent(org)
    subject = DataSubject.objects.get(pk=ctx["subject"])
    link = services.consent_link_create(organisation=org, created_by=None, subject=subject)
    return ctx | {"link": link.pk, "token": link.token}


def _generic_link(org) -> dict:
    ctx = _consent(org)
    purpose = Purpose.objects.get(pk=ctx["purpose"])
    link = services.consent_link_create(organisation=org, created_by=None, purposes=[purpose])
    return ctx | {"generic": link.pk, "token": link.token}


def _token(ctx) -> dict:
    return {"token": ctx["token"]}


ROUTES = {
    "capture": Route(allowed=DPO_STAFF, kwargs=org_only),
    "capture_lookup": Route(allowed=DPO_STAFF, kwargs=org_only),
    "capture_purposes": Route(allowed=DPO_STAFF, kwargs=org_only),
    "receipt": Route(
        allowed=DPO_STAFF,
        setup=_consent,
        kwargs=lambda ctx: {"org_slug": ctx["org"].slug, "key": ctx["key"]},
    ),
    "subjects": Route(allowed=ALL, kwargs=org_only),
    "subject": Route(allowed=ALL, setup=_consent, kwargs=org_and_pk("subject")),
    "withdraw": Route(
        allowed=DPO_STAFF,
        method="post",
        setup=_consent,
        kwargs=org_and_pk("subject"),
        data=lambda ctx: {"purpose": ctx["purpose"], "channel": Channel.WHATSAPP},
    ),
    "proof_file": Route(allowed=ALL, setup=_consent, kwargs=org_and_pk("file")),
    "proof_rendition": Route(allowed=ALL, setup=_photo, kwargs=org_and_pk("photo")),
    "register": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "register_csv": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "ledger": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "checkpoint_download": Route(
        allowed=DPO_AUDITOR, setup=_checkpoint, kwargs=org_and_pk("checkpoint")
    ),
    "purposes": Route(allowed=DPO, kwargs=org_only),
    "purpose_edit": Route(allowed=DPO, setup=_consent, kwargs=org_and_pk("purpose")),
    "notices": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "notice_create": Route(allowed=DPO, kwargs=org_only),
    "notice": Route(allowed=DPO_AUDITOR, setup=_consent, kwargs=org_and_pk("notice")),
    "notice_edit": Route(allowed=DPO, setup=_consent, kwargs=org_and_pk("draft")),
    "notice_publish": Route(allowed=DPO, method="post", setup=_consent, kwargs=org_and_pk("draft")),
    "reconsent": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "import": Route(allowed=DPO, kwargs=org_only),
    "unconfirmed": Route(allowed=DPO_AUDITOR, kwargs=org_only),
    "unconfirmed_dismiss": Route(
        allowed=DPO, method="post", setup=_unconfirmed, kwargs=org_and_pk("answer")
    ),
    "link_create": Route(
        allowed=DPO_STAFF, method="post", setup=_consent, kwargs=org_and_pk("subject")
    ),
    "link_revoke": Route(
        allowed=DPO_STAFF, method="post", setup=_personal_link, kwargs=org_and_pk("link")
    ),
    "generic_links": Route(allowed=DPO, kwargs=org_only),
    "generic_poster": Route(allowed=DPO, setup=_generic_link, kwargs=org_and_pk("generic")),
    "generic_revoke": Route(
        allowed=DPO, method="post", setup=_generic_link, kwargs=org_and_pk("generic")
    ),
    # Public pages: the person's own link, no login.
    "public": Route(allowed=PUBLIC, setup=_personal_link, kwargs=_token),
    "public_withdraw": Route(
        allowed=PUBLIC,
        method="post",
        setup=_personal_link,
        kwargs=_token,
        data=lambda ctx: {"purpose": ctx["purpose"]},
    ),
}
