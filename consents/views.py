import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell
from accounts.csvsafe import csv_safe
from accounts.models import AuditEntry
from accounts.services import audit_record

from . import checkpoints, link_views, selectors, services
from .filters import ConsentRegisterFilter
from .forms import CaptureForm, NoticeForm, PurposeForm, WithdrawForm
from .models import (
    ConsentEvent,
    ConsentState,
    DataSubject,
    LedgerCheckpoint,
    NoticeVersion,
    ProofFile,
    Purpose,
    UnconfirmedAnswer,
    of_visible_subjects,
)
from .phones import try_parse_phone

# --- capture --------------------------------------------------------------------------------


@org_view("capture_consent")
def capture(request):
    org = request.organisation
    form = CaptureForm(request.POST or None, request.FILES or None, organisation=org)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.consent_capture(
                organisation=org, person=form.person(), act=form.act(request), proof=form.proof()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(
                "consents:receipt", org_slug=org.slug, key=result.events[0].idempotency_key
            )
    language = form["language"].value() or org.default_language
    checked = request.POST.getlist("purposes")
    return render(request, "consents/capture_form.html", _capture_context(form, language, checked))


def _capture_context(form, language, checked):
    notices = form.notices_for(language)
    purposes = [(p, notices.get(p.pk)) for p in form.fields["purposes"].queryset]
    return {"form": form, "purpose_rows": purposes, "language": language, "checked": checked}


@org_view("capture_consent")
def capture_lookup(request):
    """htmx: as staff type the number, show the person it already belongs to (if any)."""
    org = request.organisation
    phone = try_parse_phone(request.GET.get("phone", ""), org.country)
    subject = None
    if phone is not None:
        subject = DataSubject.objects.filter(organisation=org, phone=phone).first()
    if subject is not None and subject.is_hidden:
        # Blocked (LOPDGDD Art. 32): capture shows no name and no state, only that nothing can
        # be recorded for this number (the capture itself is refused by consents.rules).
        return render(
            request, "consents/includes/capture_lookup.html", {"phone": phone, "hidden": True}
        )
    states = (
        ConsentState.objects.filter(subject=subject).select_related("purpose") if subject else []
    )
    return render(
        request,
        "consents/includes/capture_lookup.html",
        {"subject": subject, "phone": phone, "states": states},
    )


@org_view("capture_consent")
def capture_purposes(request):
    """htmx: the purposes with their notice in the language just chosen."""
    form = CaptureForm(organisation=request.organisation)
    language = request.GET.get("language") or request.organisation.default_language
    if language not in dict(form.fields["language"].choices):
        language = request.organisation.default_language
    return render(
        request,
        "consents/includes/capture_purposes.html",
        _capture_context(form, language, request.GET.getlist("purposes")),
    )


@org_view("capture_consent")
def receipt(request, key):
    events = list(
        ConsentEvent.objects.filter(organisation=request.organisation, idempotency_key=key)
        .select_related("subject", "purpose", "notice_version", "recorded_by", "proof")
        .prefetch_related("proof__files")
        .order_by("sequence")
    )
    if not events or events[0].subject.is_hidden:
        raise Http404("No such capture")
    subject = events[0].subject
    link = link_views.active_link(subject)
    if link is None and subject.status == DataSubject.Status.ACTIVE:
        # Offer the person their own link at once: they can confirm (double opt-in) or withdraw.
        link = services.consent_link_for_subject(
            subject=subject, created_by=request.user, request=request
        )
    context = {"events": events, "subject": subject}
    return render(
        request,
        "consents/capture_receipt.html",
        {**context, "card": link_views.link_card(request, subject, link)},
    )


# --- subjects -------------------------------------------------------------------------------


@org_view("view_subjects")
def subject_list(request):
    query = request.GET.get("q", "")
    subjects = selectors.subject_search(request.organisation, query)
    page = Paginator(subjects.order_by("full_name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "consents/subject_list.html", {"page": page, "q": query})


@org_view("view_subjects")
def subject_detail(request, pk):
    subject = get_for_org_or_404(DataSubject, request.organisation, pk=pk)
    if subject.is_hidden:
        # Blocked or purged: the page says so and when, and shows none of the data (kept only
        # for courts and authorities: an evidence pack made for an authority includes it).
        return render(request, "consents/subject_hidden.html", {"subject": subject})
    rows, timeline = selectors.subject_overview(subject)
    context = {"subject": subject, "rows": rows, "timeline": timeline}
    # No link to send nor WhatsApp message to write while processing is restricted (Art. 18).
    if request.membership.can("capture_consent") and not subject.is_restricted:
        context["card"] = link_views.link_card(request, subject, link_views.active_link(subject))
    return render(
        request, "consents/subject_detail.html", {**context, "withdraw_form": WithdrawForm()}
    )


@org_view("withdraw_consent")
@require_POST
def subject_withdraw(request, pk):
    subject = get_for_org_or_404(DataSubject, request.organisation, pk=pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        purpose = get_for_org_or_404(Purpose, request.organisation, pk=form.cleaned_data["purpose"])
        try:
            event = services.consent_withdraw(
                organisation=request.organisation,
                act=form.act(request, subject=subject, purpose=purpose),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Consent to “%(purpose)s” withdrawn (reference #%(seq)s).")
                % {"purpose": purpose.name, "seq": event.sequence},
            )
    else:
        messages.error(request, _("The withdrawal could not be read; nothing was recorded."))
    return redirect("consents:subject", org_slug=request.organisation.slug, pk=subject.pk)


@org_view("view_subjects")
def proof_file(request, pk):
    """Proof files only ever leave as attachments, and only to members of the organisation."""
    record = get_for_org_or_404(
        ProofFile.objects.filter(of_visible_subjects("proof__subject")),
        request.organisation,
        pk=pk,
    )
    return _proof_attachment(
        request,
        record,
        record.file,
        filename=record.original_name or record.file.name.rsplit("/", 1)[-1],
        content_type=record.content_type,
        sha256=record.sha256,
    )


@org_view("view_subjects")
def proof_rendition(request, pk):
    """The JPEG made from a photo browsers cannot show (HEIC); the evidence is proof_file."""
    record = get_for_org_or_404(
        ProofFile.objects.filter(of_visible_subjects("proof__subject")),
        request.organisation,
        pk=pk,
    )
    if not record.rendition:
        raise Http404
    return _proof_attachment(
        request,
        record,
        record.rendition,
        filename=record.rendition_name,
        content_type="image/jpeg",
        sha256=record.rendition_sha256,
    )


def _proof_attachment(request, record, stored, *, filename, content_type, sha256):
    audit_record(
        record,
        AuditEntry.Action.DOWNLOADED,
        user=request.user,
        request=request,
        object_repr=f"{filename} ({sha256[:12]}…)",
    )
    response = FileResponse(
        stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- register -------------------------------------------------------------------------------


def _register_filter(request):
    # Blocked and purged people are not in the register nor in its CSV (LOPDGDD Art. 32).
    states = (
        ConsentState.objects.filter(organisation=request.organisation)
        .filter(of_visible_subjects())
        .select_related(
            "subject", "purpose", "event", "event__recorded_by", "event__notice_version"
        )
    )
    return ConsentRegisterFilter(
        request.GET or None, queryset=states, organisation=request.organisation
    )


@org_view("view_register")
def register(request):
    filterset = _register_filter(request)
    page = Paginator(filterset.qs.order_by("-captured_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "consents/register.html", {"filter": filterset, "page": page})


class _Echo:
    def write(self, value):
        return value


REGISTER_CSV_HEADER = [
    "reference",
    "subject_id",
    "full_name",
    "phone",
    "purpose_code",
    "purpose",
    "state",
    "channel",
    "captured_at",
    "recorded_at",
    "recorded_by",
    "notice_version",
    "notice_sha256",
    "event_hash",
]


@org_view("export")
def register_csv(request):
    """Streams every matching row: no limit, never the whole register in memory."""
    filterset = _register_filter(request)
    rows = filterset.qs.order_by("pk").iterator(chunk_size=2000)
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(REGISTER_CSV_HEADER)
        for s in rows:
            e = s.event
            yield writer.writerow(
                [
                    csv_safe(v)
                    for v in (
                        e.sequence,
                        s.subject_id,
                        s.subject.full_name,
                        s.subject.phone,
                        s.purpose.code,
                        s.purpose.name,
                        s.action,
                        e.channel,
                        timezone.localtime(e.captured_at).isoformat(),
                        timezone.localtime(e.recorded_at).isoformat(),
                        e.recorded_by.email if e.recorded_by else "",
                        e.notice_version.version if e.notice_version else "",
                        e.notice_sha256,
                        e.hash,
                    )
                ]
            )

    audit_record(
        organisation=request.organisation,
        user=request.user,
        request=request,
        register=ConsentState,
        action=AuditEntry.Action.EXPORTED,
        object_repr=_("Consent register CSV"),
        details=[{"field": "filter", "old": "", "new": request.GET.urlencode()}],
    )
    filename = f"consents-{request.organisation.slug}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- ledger integrity -----------------------------------------------------------------------


def ledger_check_told(request, check, verified: str):
    """Back to the Ledger integrity page, saying ``verified`` or where the chain broke."""
    if check.ok:
        messages.success(request, verified)
    else:
        messages.error(
            request,
            _("The ledger is broken at reference #%(seq)s: %(reason)s")
            % {"seq": check.broken_sequence, "reason": check.reason},
        )
    return redirect("consents:ledger", org_slug=request.organisation.slug)


@org_view("verify_ledger")
def ledger(request):
    org = request.organisation
    if request.method == "POST":
        check = services.ledger_verify(organisation=org, triggered_by=request.user.email)
        return ledger_check_told(
            request, check, _("The ledger verifies: every event matches its hash.")
        )
    checks = org.integrity_checks.all()[:20]
    recent = (
        ConsentEvent.objects.filter(organisation=org)
        .select_related("purpose")
        .order_by("-sequence")[:20]
    )
    signed = LedgerCheckpoint.objects.filter(organisation=org).defer("signature")[:20]
    return render(
        request,
        "consents/ledger.html",
        {"checks": checks, "recent": recent, "checkpoints": signed},
    )


@org_view("verify_ledger")
def checkpoint_download(request, pk):
    """One signed checkpoint as a file the DPO keeps outside the database (consents.checkpoints)."""
    checkpoint = get_for_org_or_404(LedgerCheckpoint, request.organisation, pk=pk)
    response = HttpResponse(
        checkpoints.bundle_bytes(checkpoint), content_type="application/json; charset=utf-8"
    )
    filename = f"{request.organisation.slug}-{checkpoint.file_stem}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- purposes and notices -------------------------------------------------------------------


@org_view("manage_purposes")
def purpose_list(request):
    purposes = Purpose.objects.filter(organisation=request.organisation).annotate(
        notice_count=Count("notices", distinct=True)
    )
    form = PurposeForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Purpose saved."))
        return redirect("consents:purposes", org_slug=request.organisation.slug)
    return render(request, "consents/purpose_list.html", {"purposes": purposes, "form": form})


@org_view("manage_purposes")
def purpose_edit(request, pk):
    purpose = get_for_org_or_404(Purpose, request.organisation, pk=pk)
    form = PurposeForm(request.POST or None, instance=purpose, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Purpose saved."))
        return redirect("consents:purposes", org_slug=request.organisation.slug)
    return render(request, "consents/purpose_form.html", {"form": form, "purpose": purpose})


@org_view("view_register")
def notice_list(request):
    notices = (
        NoticeVersion.objects.filter(organisation=request.organisation)
        .prefetch_related("purposes")
        .annotate(event_count=Count("events"))
    )
    return render(request, "consents/notice_list.html", {"notices": notices})


@org_view("manage_purposes")
def notice_create(request):
    return _notice_form(request, NoticeVersion(created_by=request.user))


@org_view("manage_purposes")
def notice_edit(request, pk):
    notice = get_for_org_or_404(NoticeVersion, request.organisation, pk=pk)
    if notice.is_published:
        messages.error(request, _("A published notice cannot be changed. Draft a new version."))
        return redirect("consents:notice", org_slug=request.organisation.slug, pk=pk)
    return _notice_form(request, notice)


def _notice_form(request, notice):
    form = NoticeForm(request.POST or None, instance=notice, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "purposes"}
        try:
            notice = services.notice_update_draft(
                notice=notice,
                data=data,
                purposes=form.cleaned_data["purposes"],
                changed_by=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Publish it when it is final."))
            return redirect("consents:notice", org_slug=request.organisation.slug, pk=notice.pk)
    return render(request, "consents/notice_form.html", {"form": form, "notice": notice})


@org_view("view_register")
def notice_detail(request, pk):
    notice = get_for_org_or_404(NoticeVersion, request.organisation, pk=pk)
    current = {
        p.pk: NoticeVersion.objects.current_for(p, notice.language) for p in notice.purposes.all()
    }
    superseded = notice.is_published and any(c and c.pk != notice.pk for c in current.values())
    return render(
        request, "consents/notice_detail.html", {"notice": notice, "superseded": superseded}
    )


@org_view("manage_purposes")
@require_POST
def notice_publish(request, pk):
    notice = get_for_org_or_404(NoticeVersion, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.notice_publish(notice=notice, published_by=request.user, request=request),
        _("Published. Its text is now frozen."),
    )
    return redirect("consents:notice", org_slug=request.organisation.slug, pk=pk)


@org_view("view_register")
def reconsent(request):
    """Subjects whose consent was given under a superseded notice version: ask them again."""
    states = list(selectors.superseded_consents(request.organisation))
    page = Paginator(states, 100).get_page(request.GET.get("page"))
    return render(request, "consents/reconsent_list.html", {"page": page, "total": len(states)})


# --- answers waiting for the person's confirmation -------------------------------------------


@org_view("view_register")
def unconfirmed_answers(request):
    """Grants typed on a poster or an invite for a number whose refusal or withdrawal is on
    record: the DPO sends each person their personal link to confirm (consents.rules)."""
    answers = (
        UnconfirmedAnswer.objects.filter(organisation=request.organisation)
        .filter(of_visible_subjects())
        .select_related("subject", "purpose", "resolved_event")
        .order_by("status", "-submitted_at", "-pk")
    )
    page = Paginator(answers, 50).get_page(request.GET.get("page"))
    pending = answers.filter(status=UnconfirmedAnswer.Status.PENDING).count()
    return render(
        request, "consents/unconfirmed_list.html", {"page": page, "pending_count": pending}
    )


@org_view("manage_purposes")
@require_POST
def unconfirmed_dismiss(request, pk):
    answer = get_for_org_or_404(UnconfirmedAnswer, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.unconfirmed_answer_dismiss(
            answer=answer, dismissed_by=request.user, request=request
        ),
        _("The answer was dismissed; the earlier one stands."),
    )
    return redirect("consents:unconfirmed", org_slug=request.organisation.slug)
