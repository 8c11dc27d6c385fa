from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell
from jobs.tasks import job_enqueue

from . import checks, library, register, runners, services
from .forms import (
    ActivityForm,
    AsOfForm,
    ExportForm,
    ProcessorRecordForm,
    activity_formsets,
    processor_formsets,
    rows_of,
)
from .models import ProcessingActivity, ProcessorRecord


def _as_of(request):
    """The day the page shows the record as it stood on (?as_of=YYYY-MM-DD), or None: now."""
    form = AsOfForm(request.GET or None)
    day = form.cleaned_data["as_of"] if form.is_valid() else None
    return form, day, register.end_of_day(day) if day else None


@org_view("view")
def register_list(request):
    org = request.organisation
    form, day, at = _as_of(request)
    context = {
        "as_of_form": form,
        "as_of": day,
        "record": register.register_as_of(org, at),
        # The checks look at the record as it is now: a gap of the past is mended today.
        "findings": checks.findings(org) if day is None else [],
        "export_form": ExportForm(organisation=org, initial={"as_of": day}),
    }
    return render(request, "processing/register.html", context)


@org_view("export")
@require_POST
def export(request):
    org = request.organisation
    form = ExportForm(request.POST, organisation=org)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("processing:register", org_slug=org.slug)
    data = form.cleaned_data
    parameters = runners.parameters(
        file_format=data["file_format"], as_of=data["as_of"], language=data["language"]
    )
    job = job_enqueue(
        organisation=org,
        kind=runners.ROPA,
        parameters=parameters,
        requested_by=request.user,
        description=runners.describe_parameters(parameters),
    )
    messages.success(
        request, _("The record of processing is being prepared (export #%(n)s).") % {"n": job.pk}
    )
    return redirect("jobs:list", org_slug=org.slug)


# --- activities (Art. 30(1)) -------------------------------------------------------------------


@org_view("manage_processing")
def activity_new(request):
    """Start an activity from the library of templates, or from a blank form."""
    org = request.organisation
    if request.method == "POST":
        try:
            activity = services.activity_from_template(
                organisation=org, code=request.POST.get("template", ""), user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Draft made from the template: check each section, then make it active."),
            )
            return redirect("processing:activity_edit", org_slug=org.slug, pk=activity.pk)
    templates = [
        (template, list(services.template_purposes(org, template)))
        for template in library.TEMPLATES
    ]
    return render(request, "processing/activity_new.html", {"templates": templates})


def _saved(form, formsets, save):
    """What ``save(values, lists)`` returns once the form and all its formsets are valid, or None
    (unbound, invalid, or refused by the service: its ValidationError becomes a form error).
    ``values`` are the form's fields, which are those the service writes (processing.forms)."""
    if not (form.is_bound and form.is_valid() and all(f.is_valid() for f in formsets.values())):
        return None
    values = {name: form.cleaned_data[name] for name in form._meta.fields}
    lists = {name: rows_of(formset) for name, formset in formsets.items()}
    try:
        return save(values, lists)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def _save_activity(request, activity):
    org = request.organisation
    data = request.POST if request.method == "POST" else None
    form = ActivityForm(data, instance=activity, organisation=org)
    formsets = activity_formsets(data, activity=activity, organisation=org)

    def save(values, lists):
        if activity is None:
            return services.activity_create(
                organisation=org, data=values, user=request.user, **lists
            )
        return services.activity_update(activity=activity, data=values, user=request.user, **lists)

    saved = _saved(form, formsets, save)
    if saved is not None:
        messages.success(request, _("Activity saved."))
        return redirect("processing:activity", org_slug=org.slug, pk=saved.pk)
    return render(
        request,
        "processing/activity_form.html",
        {"form": form, "formsets": formsets, "activity": activity},
    )


@org_view("manage_processing")
def activity_create(request):
    return _save_activity(request, None)


@org_view("manage_processing")
def activity_edit(request, pk):
    activity = get_for_org_or_404(ProcessingActivity, request.organisation, pk=pk)
    if activity.is_retired:
        messages.error(request, _("A retired activity is kept as it was; it cannot be changed."))
        return redirect("processing:activity", org_slug=request.organisation.slug, pk=pk)
    return _save_activity(request, activity)


@org_view("view")
def activity_detail(request, pk):
    activity = get_for_org_or_404(ProcessingActivity, request.organisation, pk=pk)
    form, day, at = _as_of(request)
    context = {
        "activity": activity,
        "snapshot": register.activity_as_of(activity, at),
        "as_of_form": form,
        "as_of": day,
        "entries": register.history_entries(activity)[:200],
    }
    return render(request, "processing/activity_detail.html", context)


@org_view("manage_processing")
@require_POST
def activity_retire(request, pk):
    activity = get_for_org_or_404(ProcessingActivity, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.activity_retire(activity=activity, user=request.user),
        _("Activity retired: it stays on file with its history."),
    )
    return redirect("processing:activity", org_slug=request.organisation.slug, pk=pk)


# --- processor records (Art. 30(2)) -------------------------------------------------------------


@org_view("view")
def processor_list(request):
    records = ProcessorRecord.objects.filter(organisation=request.organisation).prefetch_related(
        "controllers"
    )
    return render(request, "processing/processor_list.html", {"records": records})


def _save_processor(request, record):
    org = request.organisation
    data = request.POST if request.method == "POST" else None
    form = ProcessorRecordForm(data, instance=record, organisation=org)
    formsets = processor_formsets(data, record=record)

    def save(values, lists):
        if record is None:
            return services.processor_record_create(
                organisation=org, data=values, user=request.user, **lists
            )
        return services.processor_record_update(
            record=record, data=values, user=request.user, **lists
        )

    saved = _saved(form, formsets, save)
    if saved is not None:
        messages.success(request, _("Processor record saved."))
        return redirect("processing:processor", org_slug=org.slug, pk=saved.pk)
    return render(
        request,
        "processing/processor_form.html",
        {"form": form, "formsets": formsets, "record": record},
    )


@org_view("manage_processing")
def processor_create(request):
    return _save_processor(request, None)


@org_view("manage_processing")
def processor_edit(request, pk):
    record = get_for_org_or_404(ProcessorRecord, request.organisation, pk=pk)
    if record.is_retired:
        messages.error(request, _("A retired record is kept as it was; it cannot be changed."))
        return redirect("processing:processor", org_slug=request.organisation.slug, pk=pk)
    return _save_processor(request, record)


@org_view("view")
def processor_detail(request, pk):
    record = get_for_org_or_404(ProcessorRecord, request.organisation, pk=pk)
    form, day, at = _as_of(request)
    context = {
        "record": record,
        "snapshot": register.processor_as_of(record, at),
        "as_of_form": form,
        "as_of": day,
        "entries": register.processor_history_entries(record)[:200],
    }
    return render(request, "processing/processor_detail.html", context)


@org_view("manage_processing")
@require_POST
def processor_retire(request, pk):
    record = get_for_org_or_404(ProcessorRecord, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.processor_record_retire(record=record, user=request.user),
        _("Processor record retired: it stays on file with its history."),
    )
    return redirect("processing:processor", org_slug=request.organisation.slug, pk=pk)
