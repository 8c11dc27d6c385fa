"""The register's pages for members: list, log, detail and one page per decision.

Each decision page is a form (GET shows it, POST calls one service and goes back to the request);
a refusal by the service is shown on the form and nothing changes. Roles: staff log requests and
settle the identity, the DPO decides, auditors read (accounts.roles).
"""

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell
from accounts.models import AuditEntry
from accounts.services import audit_record
from consents.phones import try_parse_phone

from . import letters, selectors, services
from .choices import CLOSED, LetterKind
from .forms import (
    AnswerForm,
    AssignForm,
    ClockStopForm,
    ExtendForm,
    LetterForm,
    LetterSendForm,
    RegisterFilterForm,
    RejectForm,
    RequestLogForm,
    VerifyForm,
    WithdrawnForm,
)
from .models import RequestAttachment, RequestLetter, RightsRequest


def _request(request, pk) -> RightsRequest:
    return get_for_org_or_404(
        RightsRequest.objects.select_related("subject", "handled_by"), request.organisation, pk=pk
    )


def _to_detail(request, rights_request):
    return redirect(
        "rights_requests:detail", org_slug=request.organisation.slug, pk=rights_request.pk
    )


# --- lists ----------------------------------------------------------------------------------


@org_view("view_requests")
def register(request):
    form = RegisterFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {"when": "open"}
    today = timezone.localdate()
    rows = selectors.register(request.organisation, data=data, today=today)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "today": today, "as_of": data.get("as_of")}
    return render(request, "rights_requests/request_list.html", context)


@org_view("view_requests")
def deadlines(request):
    today = timezone.localdate()
    context = {"today": today, **selectors.deadlines(request.organisation, today)}
    return render(request, "rights_requests/request_deadlines.html", context)


# --- logging --------------------------------------------------------------------------------


@org_view("log_request")
def log(request):
    org = request.organisation
    initial = {"phone": request.GET.get("phone", "")}
    form = RequestLogForm(
        request.POST or None, request.FILES or None, organisation=org, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rights_request = services.request_log(
                organisation=org,
                user=request.user,
                request=request,
                attachments=data.pop("files"),
                **data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Request %(ref)s logged.") % {"ref": rights_request.reference}
            )
            return _to_detail(request, rights_request)
    return render(request, "rights_requests/request_form.html", {"form": form})


@org_view("log_request")
def log_lookup(request):
    """htmx: as staff type the number, the person it belongs to and their open requests."""
    org = request.organisation
    phone = try_parse_phone(request.GET.get("phone", ""), org.country)
    subject = services.subject_by_phone(organisation=org, phone=phone)
    open_requests = (
        RightsRequest.objects.open().filter(organisation=org, subject=subject) if subject else []
    )
    return render(
        request,
        "rights_requests/includes/log_lookup.html",
        {"subject": subject, "phone": phone, "open_requests": open_requests},
    )


# --- one request ----------------------------------------------------------------------------


@org_view("view_requests")
def detail(request, pk):
    rights_request = _request(request, pk)
    today = timezone.localdate()
    context = {
        "rr": rights_request,
        "rights_request": rights_request,
        "today": today,
        "days_left": rights_request.days_left(today),
        "projected_due_on": services.projected_due_on(rights_request, today),
        "timeline": selectors.timeline(rights_request),
        "letters": rights_request.letters.select_related("created_by"),
        "attachments": rights_request.attachments.all(),
        "is_open": rights_request.status not in CLOSED,
    }
    return render(request, "rights_requests/request_detail.html", context)


def _decision(request, rights_request, form, service, success: str, template: str, **extra):
    """POST: call ``service`` on the request, by this member, with the form's data; its refusal
    goes on the form. GET: show the form."""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service(rights_request=rights_request, user=request.user, request=request, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return _to_detail(request, rights_request)
    context = {"rr": rights_request, "form": form, **extra}
    return render(request, f"rights_requests/{template}", context)


@org_view("log_request")
def verify(request, pk):
    rights_request = _request(request, pk)
    return _decision(
        request,
        rights_request,
        VerifyForm(request.POST or None),
        services.request_verify_identity,
        _("Identity verified."),
        "request_verify.html",
    )


@org_view("handle_requests")
def clock_stop(request, pk):
    rights_request = _request(request, pk)
    return _decision(
        request,
        rights_request,
        ClockStopForm(request.POST or None),
        services.request_stop_clock,
        _("The clock is stopped until the information arrives."),
        "request_clock.html",
    )


@org_view("handle_requests")
@require_POST
def clock_restart(request, pk):
    rights_request = _request(request, pk)
    run_and_tell(
        request,
        lambda: services.request_restart_clock(
            rights_request=rights_request, user=request.user, request=request
        ),
        _("The clock is running again."),
    )
    return _to_detail(request, rights_request)


@org_view("handle_requests")
def extend(request, pk):
    rights_request = _request(request, pk)
    initial = {"body": letters.default_body(rights_request, LetterKind.EXTENSION)}
    return _decision(
        request,
        rights_request,
        ExtendForm(request.POST or None, rights_request=rights_request, initial=initial),
        services.request_extend,
        _("Extended; the notice to the person is on record."),
        "request_extend.html",
    )


@org_view("handle_requests")
def assign(request, pk):
    rights_request = _request(request, pk)
    form = AssignForm(
        request.POST or None,
        organisation=request.organisation,
        initial={"handler": rights_request.handled_by_id or request.user.pk},
    )
    return _decision(
        request,
        rights_request,
        form,
        services.request_assign,
        _("Handler saved."),
        "request_assign.html",
    )


@org_view("handle_requests")
def answer(request, pk):
    rights_request = _request(request, pk)
    initial = {"answer": letters.default_body(rights_request, LetterKind.ANSWER)}
    form = AnswerForm(request.POST or None, rights_request=rights_request, initial=initial)
    return _decision(
        request,
        rights_request,
        form,
        services.request_answer,
        _("Answered; the letter is on record."),
        "request_answer.html",
    )


@org_view("handle_requests")
def reject(request, pk):
    rights_request = _request(request, pk)
    return _decision(
        request,
        rights_request,
        RejectForm(request.POST or None, rights_request=rights_request),
        services.request_reject,
        _("Refused; the letter with the reasons is on record."),
        "request_reject.html",
    )


@org_view("handle_requests")
def withdrawn(request, pk):
    rights_request = _request(request, pk)
    return _decision(
        request,
        rights_request,
        WithdrawnForm(request.POST or None),
        services.request_withdrawn,
        _("Closed: the person withdrew the request."),
        "request_withdrawn.html",
    )


# --- letters and files ----------------------------------------------------------------------


@org_view("log_request")
def letter_new(request, pk):
    rights_request = _request(request, pk)
    kind = request.POST.get("kind") or request.GET.get("kind") or LetterKind.ACKNOWLEDGEMENT
    if kind not in letters.STAFF_KINDS:
        kind = LetterKind.ACKNOWLEDGEMENT
    form = LetterForm(
        request.POST or None,
        initial={"kind": kind, "body": letters.default_body(rights_request, kind)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            letter = letters.letter_create(
                rights_request=rights_request,
                kind=form.cleaned_data["kind"],
                body=form.cleaned_data["body"],
                user=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Letter written. Now send it."))
            return redirect(
                "rights_requests:letter_send",
                org_slug=request.organisation.slug,
                pk=rights_request.pk,
                letter_pk=letter.pk,
            )
    bodies = {k: letters.default_body(rights_request, k) for k in letters.STAFF_KINDS}
    context = {"rr": rights_request, "form": form, "bodies": bodies}
    return render(request, "rights_requests/letter_form.html", context)


def _letter(request, pk, letter_pk) -> RequestLetter:
    return get_for_org_or_404(
        RequestLetter.objects.select_related("request"),
        request.organisation,
        pk=letter_pk,
        request_id=pk,
    )


def _send_letter(*, letter, rights_request, user, request, sent_via, sent_to):
    # Called as _decision calls a service: the request, the member, then the form's fields.
    return letters.letter_send(letter=letter, via=sent_via, to=sent_to, user=user, request=request)


@org_view("log_request")
def letter_send(request, pk, letter_pk):
    letter = _letter(request, pk, letter_pk)
    rights_request = letter.request
    form = LetterSendForm(request.POST or None, rights_request=rights_request)
    return _decision(
        request,
        rights_request,
        form,
        functools.partial(_send_letter, letter=letter),
        _("The letter is recorded as sent."),
        "letter_send.html",
        letter=letter,
    )


def _attachment_response(stored, *, filename: str, content_type: str):
    response = FileResponse(
        stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def letter_response(letter: RequestLetter):
    """A letter's PDF as a download: to members here, and to the person on their personal link
    (rights_requests.public_views.link_letter)."""
    return _attachment_response(
        letter.file, filename=letters.letter_filename(letter), content_type="application/pdf"
    )


@org_view("view_requests")
def letter_download(request, pk, letter_pk):
    """Letters leave only as attachments, only to members, and each copy is on record."""
    letter = _letter(request, pk, letter_pk)
    if not letter.file:
        raise Http404
    letters.letter_download_audit(letter=letter, user=request.user, request=request)
    return letter_response(letter)


@org_view("view_requests")
def attachment_download(request, pk, attachment_pk):
    attachment = get_for_org_or_404(
        RequestAttachment, request.organisation, pk=attachment_pk, request_id=pk
    )
    audit_record(
        attachment,
        AuditEntry.Action.DOWNLOADED,
        user=request.user,
        request=request,
        object_repr=f"{attachment.original_name} ({attachment.sha256[:12]}…)",
    )
    return _attachment_response(
        attachment.file,
        filename=attachment.original_name or f"attachment{attachment.extension}",
        content_type=attachment.content_type,
    )
