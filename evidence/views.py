from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view
from accounts.models import AuditEntry
from accounts.services import audit_record
from consents.models import ConsentEvent, DataSubject
from jobs.tasks import job_enqueue

from . import runners, verification
from .forms import CertificateForm, CertificateUploadForm, PackForm, VerifyForm
from .models import SigningCertificate
from .packs import PackScope, subject_scope_filter


@org_view("export")
def pack_request(request):
    """An evidence pack for an inquiry: a purpose, dates, people. Prepared as a background job."""
    org = request.organisation
    form = PackForm(request.POST or None, organisation=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope = PackScope(
            purposes=[p.code for p in data["purposes"]],
            date_from=data["date_from"],
            date_to=data["date_to"],
            subject_ids=subject_scope_filter(org, data["subjects"].splitlines()),
            requests=data["requests"],
            ropa=data["ropa"],
            for_authority=data["for_authority"],
        )
        if data["subjects"].strip() and not scope.subject_ids:
            form.add_error("subjects", _("None of these people is on record."))
        else:
            job_enqueue(
                organisation=org,
                kind=runners.PACK,
                parameters=scope.to_parameters(),
                requested_by=request.user,
                description=scope.describe(),
            )
            messages.success(request, _("The evidence pack is being prepared."))
            return redirect("jobs:list", org_slug=org.slug)
    return render(request, "evidence/pack_form.html", {"form": form})


@org_view("export")
@require_POST
def certificate_request(request, pk):
    # A blocked person's certificate goes only into a pack made for an authority.
    subject = get_for_org_or_404(DataSubject.objects.visible(), request.organisation, pk=pk)
    form = CertificateForm(request.POST, organisation=request.organisation)
    if not form.is_valid():
        messages.error(request, _("Choose a purpose and a language."))
        return redirect("consents:subject", org_slug=request.organisation.slug, pk=pk)
    purpose = form.cleaned_data["purpose"]
    job_enqueue(
        organisation=request.organisation,
        kind=runners.CERTIFICATE,
        parameters={
            "subject_id": subject.pk,
            "purpose_id": purpose.pk if purpose else None,
            "language": form.cleaned_data["language"],
        },
        requested_by=request.user,
        description=f"{subject.full_name}" + (f" · {purpose.name}" if purpose else ""),
    )
    messages.success(request, _("The certificate is being prepared."))
    return redirect("jobs:list", org_slug=request.organisation.slug)


@org_view("verify_ledger")
def verify(request):
    form = VerifyForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        report = verification.verify_upload(organisation=request.organisation, uploaded=uploaded)
        # What was checked is the evidence against the live ledger: on record as a verification
        # of consent events, not as an export nobody made.
        audit_record(
            organisation=request.organisation,
            user=request.user,
            request=request,
            register=ConsentEvent,
            action=AuditEntry.Action.VERIFIED,
            object_repr=f"{uploaded.name}: {'OK' if report.ok else 'FAILED'}",
            details=[{"field": "result", "old": "", "new": "OK" if report.ok else "FAILED"}],
        )
    return render(
        request,
        "evidence/verify.html",
        {"form": form, "report": report, "max_upload": settings.VERIFY_MAX_UPLOAD_BYTES},
    )


@org_view("manage_organisation")
def signing_certificate(request):
    from . import signing

    org = request.organisation
    form = CertificateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        try:
            if "generate" in request.POST:
                signing.certificate_generate_self_signed(
                    organisation=org, created_by=request.user, request=request
                )
            elif form.is_valid():
                upload = form.cleaned_data["pkcs12"]
                if upload.size > settings.PROOF_MAX_BYTES:
                    raise ValidationError(_("That file is too large for a certificate."))
                signing.certificate_upload(
                    organisation=org,
                    pkcs12_data=upload.read(),
                    password=form.cleaned_data["password"],
                    uploaded_by=request.user,
                    request=request,
                )
            else:
                raise ValidationError(_("Choose a certificate file."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Evidence will now be signed with the new certificate."))
            return redirect("evidence:signing", org_slug=org.slug)
    certificates = SigningCertificate.objects.filter(organisation=org)
    return render(request, "evidence/signing.html", {"form": form, "certificates": certificates})
