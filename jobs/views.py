"""The Exports page: every job of the organisation, its progress and its file."""

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render

from accounts.access import get_for_org_or_404, org_view
from accounts.models import AuditEntry
from accounts.services import audit_record

from . import registry
from .models import Job


@org_view("export")
def job_list(request):
    jobs = Job.objects.filter(organisation=request.organisation).select_related("requested_by")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    starters = [kind for kind in registry.all_kinds() if kind.start_url]
    return render(request, "jobs/job_list.html", {"page": page, "starters": starters})


@org_view("export")
def job_status(request, pk):
    """htmx: one job's row, polled while it runs."""
    job = get_for_org_or_404(Job, request.organisation, pk=pk)
    return render(request, "jobs/includes/job_row.html", {"job": job})


@org_view("export")
def job_download(request, pk):
    job = get_for_org_or_404(Job, request.organisation, pk=pk)
    if job.status != Job.Status.DONE or not job.result or not job.has_file:
        raise Http404("No file for this job")
    audit_record(
        job,
        AuditEntry.Action.DOWNLOADED,
        user=request.user,
        request=request,
        object_repr=f"{job.result_name} ({job.result_sha256[:12]}…)",
    )
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)
