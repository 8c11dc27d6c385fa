"""Letters to the person about their request: signed PDFs in their language (GDPR Art. 12).

Art. 12(1) asks for "concise, transparent, intelligible" information; Art. 12(3) and 12(4) for a
notice of any extension with its reasons and, when the organisation does not act, the reasons and
the right to complain to a supervisory authority. Each letter is a PDF/A-3b page rendered with
evidence.pdf (vendored fonts, nothing fetched) and signed (PAdES) with the organisation's
certificate like evidence.certificates.certificate_pdf, stored under a random name with its
SHA-256, and sent by e-mail (after the commit) or marked as sent by another way.

What staff write is the ``body``; the facts the law requires (the due date, the extension and its
reason, the refusal's reasons and the AEPD) are set by the template from the request itself, so
no edit of the text can leave them out. A letter is rendered once, when it is written: the PDF
says what the request was at that moment.

Rendering and signing a one-page letter takes about half a second (measured: see
tests/rights_requests/test_letters.py), done in the request that writes it: a person who
presses "Answer" waits for the letter they are sending.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, User
from accounts.services import audit_record

from .choices import CLOSED, LetterKind, SentVia
from .models import RequestLetter, RightsRequest

# The Spanish supervisory authority (GDPR Art. 51, LOPDGDD Art. 44): where a person complains.
AEPD_NAME = "Agencia Española de Protección de Datos (AEPD)"
AEPD_ADDRESS = "C/ Jorge Juan, 6, 28001 Madrid"
AEPD_WEBSITE = "https://sede.aepd.gob.es"

# Letters staff may write themselves; the others come from the service that decides.
STAFF_KINDS = (LetterKind.ACKNOWLEDGEMENT, LetterKind.IDENTITY)


def _date(value) -> str:
    from django.utils.formats import date_format

    return date_format(value, "DATE_FORMAT") if value else ""


def default_body(rights_request: RightsRequest, kind: str) -> str:
    """The text a form offers for ``kind``, in the request's language; staff may change it."""
    with translation.override(rights_request.language):
        values = {
            "reference": rights_request.reference,
            "received": _date(rights_request.received_on),
            "due": _date(rights_request.current_due_on),
            "right": rights_request.get_right_display(),
        }
        texts = {
            LetterKind.ACKNOWLEDGEMENT: _(
                "We received your request (%(right)s) on %(received)s and registered it under the"
                " reference %(reference)s. We will answer by %(due)s at the latest."
            ),
            LetterKind.IDENTITY: _(
                "To protect your data we must be sure that the request %(reference)s comes from"
                " you. Please reply with a copy of an identity document, come to our premises"
                " with it, or open the personal link we sent you on WhatsApp and read us the"
                " code it shows. We will only use it to confirm who you are."
            ),
            LetterKind.EXTENSION: _(
                "Your request %(reference)s needs more time than one month to answer properly."
            ),
            LetterKind.ANSWER: _("In answer to your request %(reference)s (%(right)s):"),
            LetterKind.REJECTION: _("We cannot act on your request %(reference)s because:"),
        }
        return texts[LetterKind(kind)] % values


def _carried_out_summary(rights_request: RightsRequest) -> str:
    """What was done, as fulfilment recorded it (a "summary" text), for the answer letter."""
    done = rights_request.carried_out or {}
    summary = done.get("summary") if isinstance(done, dict) else ""
    return summary if isinstance(summary, str) else ""


def letter_pdf(*, letter: RequestLetter, sign: bool = True, timestamper=None) -> bytes:
    """Render ``letter`` as PDF/A-3b in its language and sign it (PAdES)."""
    from evidence import signing

    rights_request = letter.request
    organisation = letter.organisation
    certificate = signing.certificate_for_signing(organisation) if sign else None
    with translation.override(letter.language):
        title = f"{rights_request.reference} · {letter.get_kind_display()}"
        return signing.render_signed_document(
            template="pdf/request_letter.html",
            context={
                "letter": letter,
                "rr": rights_request,
                "kinds": LetterKind,
                "paragraphs": [p.strip() for p in letter.body.split("\n\n") if p.strip()],
                "written_on": timezone.localdate(letter.created_at),
                "carried_out_summary": _carried_out_summary(rights_request),
                "aepd": {"name": AEPD_NAME, "address": AEPD_ADDRESS, "website": AEPD_WEBSITE},
            },
            attachments=[],
            title=title,
            language=letter.language,
            organisation=organisation,
            certificate=certificate,
            reason=_("Letter about a data protection request (GDPR Art. 12)"),
            timestamper=timestamper,
        )


def letter_filename(letter: RequestLetter) -> str:
    return f"{letter.request.reference}-{letter.kind}-{letter.pk}.pdf"


@transaction.atomic
def letter_create(
    *, rights_request: RightsRequest, kind: str, body: str, user: User | None, request=None
) -> RequestLetter:
    """Write one letter to the person (GDPR Art. 12(1)): rendered, signed and stored at once.

    Acknowledgements and requests for identification are for requests still open; the other
    kinds are written by the services that extend, answer or refuse. The PDF's SHA-256 is kept
    beside it: the file sent is the file on record.
    """
    if kind not in LetterKind.values:
        raise ValidationError(_("Choose the kind of letter."))
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write the text of the letter."))
    if kind in STAFF_KINDS and rights_request.status in CLOSED:
        raise ValidationError(_("This request is closed: it takes no more letters of this kind."))
    letter = RequestLetter(
        organisation=rights_request.organisation,
        request=rights_request,
        kind=kind,
        language=rights_request.language,
        body=body,
        created_by=user,
        created_at=timezone.now(),
    )
    letter._history_user = user
    letter.full_clean()
    content = letter_pdf(letter=letter)
    letter.sha256 = hashlib.sha256(content).hexdigest()
    # Stored under a random name (letter_upload_to ignores the name given here).
    letter.file.save("letter.pdf", ContentFile(content), save=False)
    try:
        letter.save()
    except Exception:
        letter.file.storage.delete(letter.file.name)
        raise
    return letter


def _email_address(letter: RequestLetter, to: str) -> str:
    rights_request = letter.request
    address = (to or rights_request.requester_email or "").strip()
    if not address and rights_request.subject_id:
        address = rights_request.subject.email
    if not address:
        raise ValidationError(_("No e-mail address is known for this person: type one."))
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not an e-mail address.") % {"value": address[:80]}
        ) from None
    return address


def _send_email(letter: RequestLetter, address: str) -> None:
    rights_request = letter.request
    organisation = letter.organisation
    with translation.override(letter.language):
        subject = _("%(org)s: your request %(reference)s (%(kind)s)") % {
            "org": organisation.legal_name,
            "reference": rights_request.reference,
            "kind": letter.get_kind_display(),
        }
        body = render_to_string(
            "emails/request_letter.txt",
            {"letter": letter, "rr": rights_request, "organisation": organisation},
        )
    with letter.file.open("rb") as handle:
        content = handle.read()
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=None,
        to=[address],
        reply_to=[organisation.dpo_email or organisation.contact_email],
    )
    message.attach(letter_filename(letter), content, "application/pdf")
    # Only once the letter is on record: a rolled-back answer must not reach anyone.
    transaction.on_commit(message.send)


@transaction.atomic
def letter_send(
    *, letter: RequestLetter, via: str, user: User | None, to: str = "", request=None
) -> RequestLetter:
    """Send ``letter`` by e-mail (the PDF attached) or record that it left another way.

    GDPR Art. 12(1): by the way the person asked, or by e-mail where they asked electronically.
    WhatsApp, post and in person mean staff take the downloaded PDF there; "personal link" puts
    it on the person's own request page. Once sent, a letter stays sent: write a new one.
    """
    letter = RequestLetter.objects.select_for_update().select_related("request").get(pk=letter.pk)
    if letter.sent_at is not None:
        raise ValidationError(
            _("This letter was sent already (%(when)s).")
            % {"when": _date(timezone.localdate(letter.sent_at))}
        )
    if via not in SentVia.values:
        raise ValidationError(_("Choose how the letter is sent."))
    to = (to or "").strip()[:200]
    if via == SentVia.EMAIL:
        to = _email_address(letter, to)
    elif via == SentVia.PERSONAL_LINK and not letter.request.subject_id:
        raise ValidationError(
            _("This person has no personal link: the request is not matched to anyone on record.")
        )
    if via == SentVia.EMAIL:
        _send_email(letter, to)
    letter.sent_at = timezone.now()
    letter.sent_via = via
    letter.sent_to = to
    letter._history_user = user
    letter.save(update_fields=["sent_at", "sent_via", "sent_to"])
    return letter


@transaction.atomic
def letter_create_and_send(
    *,
    rights_request: RightsRequest,
    kind: str,
    body: str,
    user: User | None,
    via: str,
    to: str = "",
    request=None,
) -> RequestLetter:
    """Write a letter and send it at once: the extension notice, the answer and the refusal go
    out in the same step as the decision they announce."""
    letter = letter_create(
        rights_request=rights_request, kind=kind, body=body, user=user, request=request
    )
    return letter_send(letter=letter, via=via, to=to, user=user, request=request)


def letter_download_audit(*, letter: RequestLetter, user: User | None, request=None) -> None:
    """A copy of a letter left the register (invariant 6)."""
    audit_record(
        letter,
        AuditEntry.Action.DOWNLOADED,
        user=user,
        request=request,
        object_repr=f"{letter} ({letter.sha256[:12]}…)",
    )
