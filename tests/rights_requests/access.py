"""Who may open each page of rights_requests/urls.py (see tests/access.py)."""

from django.core.files.base import ContentFile
from django.utils import timezone

from consents import services as consent_services
from rights_requests.choices import LetterKind, SentVia
from rights_requests.models import RequestAttachment, RequestLetter
from tests.access import ALL, DPO, DPO_STAFF, PUBLIC, Route, org_and_pk, org_only
from tests.consents.factories import DataSubjectFactory, PurposeFactory
from tests.rights_requests.factories import logged_request


def _letter_row(rights_request, **fields) -> RequestLetter:
    """A letter on record without rendering one (tests/rights_requests/test_letters.py renders
    them for real): the matrix checks who gets in, not the PDF."""
    letter = RequestLetter(
        organisation=rights_request.organisation,
        request=rights_request,
        kind=LetterKind.ACKNOWLEDGEMENT,
        language="es",
        body="Recibida.",
        sha256="0" * 64,
        **fields,
    )
    letter.file.save("letter.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    return letter


def _request(org) -> dict:
    """An open request waiting for identity, with a file and an acknowledgement letter."""
    rights_request = logged_request(org)
    attachment = RequestAttachment(
        organisation=org,
        request=rights_request,
        original_name="letter.pdf",
        content_type="application/pdf",
        size=9,
        sha256="0" * 64,
    )
    attachment.file.save("letter.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    letter = _letter_row(rights_request)
    return {"request": rights_request.pk, "attachment": attachment.pk, "letter": letter.pk}


_one = org_and_pk("request")


def _letter(ctx) -> dict:
    return {**_one(ctx), "letter_pk": ctx["letter"]}


def _link(org) -> dict:
    """A person's personal link, a request of theirs waiting for identity, and a letter sent to
    them through the link."""
    PurposeFactory(organisation=org)
    subject = DataSubjectFactory(organisation=org)
    link = consent_services.consent_link_for_subject(subject=subject, created_by=None)
    rights_request = logged_request(org, subject=subject)
    letter = _letter_row(rights_request, sent_at=timezone.now(), sent_via=SentVia.PERSONAL_LINK)
    return {"token": link.token, "request": rights_request.pk, "letter": letter.pk}


def _token(ctx) -> dict:
    return {"token": ctx["token"]}


def _public_slug(ctx) -> dict:
    return {"slug": ctx["org"].slug}


ROUTES = {
    # The person's own pages, no login.
    "link": Route(allowed=PUBLIC, setup=_link, kwargs=_token),
    "link_code": Route(
        allowed=PUBLIC,
        method="post",
        setup=_link,
        kwargs=_token,
        data=lambda ctx: {"request": ctx["request"]},
    ),
    "link_letter": Route(
        allowed=PUBLIC,
        setup=_link,
        kwargs=lambda ctx: {"token": ctx["token"], "pk": ctx["letter"]},
    ),
    "public_form": Route(allowed=PUBLIC, kwargs=_public_slug),
    "public_sent": Route(allowed=PUBLIC, kwargs=_public_slug),
    # The register.
    "list": Route(allowed=ALL, kwargs=org_only),
    "deadlines": Route(allowed=ALL, kwargs=org_only),
    "log": Route(allowed=DPO_STAFF, kwargs=org_only),
    "log_lookup": Route(allowed=DPO_STAFF, kwargs=org_only),
    "detail": Route(allowed=ALL, setup=_request, kwargs=_one),
    "verify": Route(allowed=DPO_STAFF, setup=_request, kwargs=_one),
    "clock_stop": Route(allowed=DPO, setup=_request, kwargs=_one),
    "clock_restart": Route(allowed=DPO, method="post", setup=_request, kwargs=_one),
    "extend": Route(allowed=DPO, setup=_request, kwargs=_one),
    "assign": Route(allowed=DPO, setup=_request, kwargs=_one),
    "answer": Route(allowed=DPO, setup=_request, kwargs=_one),
    "reject": Route(allowed=DPO, setup=_request, kwargs=_one),
    "withdrawn": Route(allowed=DPO, setup=_request, kwargs=_one),
    "letter_new": Route(allowed=DPO_STAFF, setup=_request, kwargs=_one),
    "letter": Route(allowed=ALL, setup=_request, kwargs=_letter),
    "letter_send": Route(allowed=DPO_STAFF, setup=_request, kwargs=_letter),
    "attachment": Route(
        allowed=ALL,
        setup=_request,
        kwargs=lambda ctx: {**_one(ctx), "attachment_pk": ctx["attachment"]},
    ),
}
