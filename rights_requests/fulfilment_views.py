"""Pages that carry out a right on the person's data (rights_requests.fulfilment).

Only the DPO carries out (permission ``carry_out_rights``); every member sees what can be, and
what was, done (the panel, templates/rights_requests/includes/fulfilment_panel.html, which the
request's page includes too). Effects are POST only; after one, the page goes back where it
came from (``next``, on this site) or to the fulfilment page.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell

from . import fulfilment
from .choices import Right
from .fulfilment_forms import ErasureForm, RectificationForm, RestrictionForm, RestrictionLiftForm
from .models import RightsRequest


def _rights_request(request, pk) -> RightsRequest:
    return get_for_org_or_404(
        RightsRequest.objects.select_related("subject", "organisation"),
        request.organisation,
        pk=pk,
    )


def _back(request, rights_request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(
        "rights_requests:fulfilment", org_slug=request.organisation.slug, pk=rights_request.pk
    )


@org_view("view_subjects")
def fulfilment_page(request, pk):
    """What this request's right does to the person's data: what can be, or was, carried out."""
    rights_request = _rights_request(request, pk)
    return render(
        request, "rights_requests/fulfilment/page.html", {"rights_request": rights_request}
    )


def _post_only(request, pk, service, success):
    rights_request = _rights_request(request, pk)
    run_and_tell(
        request, lambda: service(rights_request=rights_request, user=request.user), success
    )
    return _back(request, rights_request)


@org_view("carry_out_rights")
@require_POST
def access_start(request, pk):
    return _post_only(
        request,
        pk,
        fulfilment.access_export_start,
        _("The copy of the person's data is being prepared: it appears here when ready."),
    )


@org_view("carry_out_rights")
@require_POST
def portability_start(request, pk):
    return _post_only(
        request,
        pk,
        fulfilment.portability_export_start,
        _("The export of the data the person provided is being prepared."),
    )


@org_view("carry_out_rights")
@require_POST
def objection(request, pk):
    return _post_only(
        request,
        pk,
        fulfilment.objection_carry_out,
        _("Every marketing consent was withdrawn and the number is on the suppression list."),
    )


@org_view("carry_out_rights")
@require_POST
def withdrawal(request, pk):
    return _post_only(
        request,
        pk,
        fulfilment.withdrawal_carry_out,
        _("Every consent the person had given was withdrawn."),
    )


def _form_page(request, rights_request, form, template, service, success):
    """A right that needs input: the form, then the service; its refusal becomes a form error."""
    if request.method == "POST" and form.is_valid():
        try:
            service()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return _back(request, rights_request)
    return render(
        request,
        template,
        {
            "rights_request": rights_request,
            "form": form,
            "problems": fulfilment.readiness(rights_request),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


def _for_right(request, pk, right, wrong: str):
    """(the request, None) when it is for ``right`` and names a known person; else (the
    request, the way back, with ``wrong`` told)."""
    rights_request = _rights_request(request, pk)
    if rights_request.right != right or rights_request.subject is None:
        messages.error(request, wrong)
        return rights_request, _back(request, rights_request)
    return rights_request, None


@org_view("carry_out_rights")
def rectification(request, pk):
    rights_request, refused = _for_right(
        request,
        pk,
        Right.RECTIFICATION,
        _("This request is not a rectification of a known person."),
    )
    if refused:
        return refused
    form = RectificationForm(request.POST or None, subject=rights_request.subject)
    return _form_page(
        request,
        rights_request,
        form,
        "rights_requests/fulfilment/rectification.html",
        lambda: fulfilment.rectification_carry_out(
            rights_request=rights_request, user=request.user, changes=form.changes()
        ),
        _("Rectified. Tell the recipients listed below (GDPR Art. 19)."),
    )


@org_view("carry_out_rights")
def erasure(request, pk):
    rights_request, refused = _for_right(
        request, pk, Right.ERASURE, _("This request is not an erasure of a known person.")
    )
    if refused:
        return refused
    form = ErasureForm(request.POST or None)
    return _form_page(
        request,
        rights_request,
        form,
        "rights_requests/fulfilment/erasure.html",
        lambda: fulfilment.erasure_carry_out(
            rights_request=rights_request,
            user=request.user,
            exception=form.cleaned_data["exception"],
            exception_scope=form.cleaned_data["exception_scope"],
            exception_note=form.cleaned_data["exception_note"],
            keep_until=form.cleaned_data["keep_until"],
        ),
        _("Done. The erasure is on record with what was done."),
    )


@org_view("carry_out_rights")
def restriction(request, pk):
    rights_request, refused = _for_right(
        request, pk, Right.RESTRICTION, _("This request is not a restriction for a known person.")
    )
    if refused:
        return refused
    form = RestrictionForm(request.POST or None)
    return _form_page(
        request,
        rights_request,
        form,
        "rights_requests/fulfilment/restriction.html",
        lambda: fulfilment.restriction_carry_out(
            rights_request=rights_request,
            user=request.user,
            ground=form.cleaned_data["ground"],
            note=form.cleaned_data["note"],
        ),
        _("Processing of the person's data is restricted. Tell the recipients listed below."),
    )


@org_view("carry_out_rights")
@require_POST
def restriction_lift(request, pk):
    rights_request = _rights_request(request, pk)
    form = RestrictionLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return _back(request, rights_request)
    run_and_tell(
        request,
        lambda: fulfilment.restriction_lift(
            rights_request=rights_request, user=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The restriction is lifted: the person's data is in normal use again."),
    )
    return _back(request, rights_request)
