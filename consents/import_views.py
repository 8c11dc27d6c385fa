"""The DPO's page for importing a legacy consent list (CSV): upload, check, then confirm.

The checked file waits on the server under its SHA-256, outside the web root; the confirmation
only carries that hash back, so the file applied is byte for byte the one whose report the DPO
read, and no client-supplied path is ever opened.
"""

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import get_for_org_or_404, org_view
from jobs.models import Job
from jobs.tasks import job_enqueue

from . import imports, runners

MAX_IMPORT_BYTES = 50 * 1024 * 1024
# Checked files nobody confirmed are removed after a day: they hold personal data.
KEEP_CHECKED_SECONDS = 24 * 3600
SESSION_KEY = "consent_imports"
# A page request must end within the web server's timeout (60 s behind gunicorn): larger files
# are checked and imported by background jobs (consents.runners) whose progress the page and the
# Exports page show.
PAGE_MAX_ROWS = 5000
SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8, comma or semicolon separated, at most 50 MB."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("check", gettext_lazy("Check the file")))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; an import may be at most %(limit)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(MAX_IMPORT_BYTES),
                }
            )
        # Checked by content, not by name: a text file has no NUL bytes.
        head = next(upload.chunks(), b"")[:8192]
        if b"\x00" in head:
            raise forms.ValidationError(_("This is not a CSV text file."))
        return upload


@org_view("import_consents")
def import_consents(request):
    """GET: the upload form (with ?job=, a background check's progress, then its report).
    POST "check": the report. POST "apply": record the checked file."""
    if request.method == "POST" and "apply" in request.POST:
        return _apply(request)
    if request.method == "GET" and request.GET.get("job"):
        return _check_job(request, request.GET["job"])
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        return _check(request, form.cleaned_data["file"])
    purposes = request.organisation.purposes.filter(active=True).order_by("code")
    context = {"form": form, "example": EXAMPLE, "purposes": purposes}
    return render(request, "consents/import_form.html", context)


def _check(request, upload):
    sha256, path = _store(request.organisation, upload)
    filename = Path(upload.name or "upload.csv").name[-200:]
    with path.open("rb") as fileobj:
        lines = imports.count_lines(fileobj)
        if lines > PAGE_MAX_ROWS:
            job = job_enqueue(
                organisation=request.organisation,
                kind=runners.IMPORT_CHECK,
                parameters={"sha256": sha256, "filename": filename},
                requested_by=request.user,
                description=filename,
            )
            _remember(request, sha256, filename, lines)
            return redirect(f"{request.path}?job={job.pk}")
        report = imports.import_check(
            organisation=request.organisation, fileobj=fileobj, filename=filename
        )
    _remember(request, sha256, filename, report.rows)
    return _render_report(request, report)


def _remember(request, sha256: str, filename: str, rows: int) -> None:
    # What was checked is remembered server-side: the confirmation carries only the hash, and
    # only this session, having seen this report, can confirm it.
    checked = request.session.get(SESSION_KEY, {})
    checked[sha256] = {"filename": filename, "rows": rows}
    request.session[SESSION_KEY] = dict(list(checked.items())[-10:])


def _check_job(request, job_id: str):
    """A background check: its progress while it runs (the page polls), then its report."""
    if not job_id.isdigit():
        raise Http404("No such check")
    job = get_for_org_or_404(Job, request.organisation, pk=int(job_id), kind=runners.IMPORT_CHECK)
    if job.status == Job.Status.DONE:
        if request.headers.get("HX-Request"):
            # The poll ends: the whole page reloads with the report (htmx's HX-Refresh).
            return HttpResponse(headers={"HX-Refresh": "true"})
        report = imports.ImportReport.from_dict(job.outcome)
        if job.requested_by_id == request.user.pk:
            _remember(request, report.sha256, report.filename, report.rows)
        return _render_report(request, report)
    return render(request, "consents/import_checking.html", {"job": job})


def _render_report(request, report):
    context = {
        "report": report,
        "page_max_rows": PAGE_MAX_ROWS,
        "too_many_for_page": report.rows > PAGE_MAX_ROWS,
    }
    return render(request, "consents/import_report.html", context)


def _apply(request):
    sha256 = request.POST.get("sha256", "")
    checked = (
        request.session.get(SESSION_KEY, {}).get(sha256) if SHA256_RE.fullmatch(sha256) else None
    )
    path = _checked_path(request.organisation, sha256) if checked else None
    if path is None or not path.is_file():
        messages.error(request, _("The checked file is no longer available: upload it again."))
        return redirect(request.path)
    if checked["rows"] > PAGE_MAX_ROWS:
        job_enqueue(
            organisation=request.organisation,
            kind=runners.IMPORT,
            parameters={"sha256": sha256, "filename": checked["filename"]},
            requested_by=request.user,
            description=checked["filename"],
        )
        messages.success(
            request,
            _("The import of %(rows)s rows is running in the background.")
            % {"rows": checked["rows"]},
        )
        return redirect("jobs:list", org_slug=request.organisation.slug)
    with path.open("rb") as fileobj:
        try:
            result = imports.import_apply(
                organisation=request.organisation,
                fileobj=fileobj,
                imported_by=request.user,
                filename=checked["filename"],
                request=request,
            )
        except imports.ImportRefused as refused:
            return _render_report(request, refused.report)
    path.unlink(missing_ok=True)
    return render(request, "consents/import_report.html", {"result": result})


def _imports_dir(organisation) -> Path:
    return imports.checked_file_path(organisation, "x").parent


def _checked_path(organisation, sha256: str) -> Path:
    return imports.checked_file_path(organisation, sha256)


def _store(organisation, upload) -> tuple[str, Path]:
    """Write the upload under its SHA-256 (streamed: never the whole file in memory)."""
    folder = _imports_dir(organisation)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as part:
        for chunk in upload.chunks():
            digest.update(chunk)
            part.write(chunk)
    sha256 = digest.hexdigest()
    path = _checked_path(organisation, sha256)
    os.replace(part.name, path)
    return sha256, path


def _remove_stale(folder: Path) -> None:
    limit = time.time() - KEEP_CHECKED_SECONDS
    for stale in folder.iterdir():
        if stale.is_file() and stale.stat().st_mtime < limit:
            stale.unlink(missing_ok=True)


EXAMPLE = (
    "phone;full_name;purpose;action;captured_at;email\n"
    "600 12 34 56;Lucía Pérez;marketing;granted;2023-05-02 10:15;lucia@example.org\n"
    "+34 611 22 33 44;Omar Haddad;appointments;granted;2023-06-01;\n"
    "600 12 34 56;Lucía Pérez;marketing;withdrawn;2024-01-10;\n"
)
