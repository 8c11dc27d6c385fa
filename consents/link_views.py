"""Staff side of self-service consent links: create, send (WhatsApp, QR), revoke, posters."""

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell
from accounts.qr import qr_data_uri

from . import services
from .forms import GenericLinkForm
from .models import ConsentLink, DataSubject


def link_url(request, link: ConsentLink) -> str:
    return request.build_absolute_uri(reverse("consents:public", kwargs={"token": link.token}))


def whatsapp_url(subject: DataSubject, url: str) -> str:
    """wa.me with the message prefilled in the person's own language (a plain link, not loaded)."""
    with translation.override(subject.preferred_language):
        text = _(
            "Hello %(name)s. %(organisation)s asks for your consent to contact you on WhatsApp."
            " Read how we use your data and choose (you can withdraw at any time): %(url)s"
        ) % {"name": subject.full_name, "organisation": subject.organisation.legal_name, "url": url}
    return f"https://wa.me/{subject.phone.as_e164.lstrip('+')}?text={quote(text)}"


def link_card(request, subject: DataSubject, link: ConsentLink | None) -> dict:
    """Context of templates/consents/includes/consent_link_card.html."""
    if link is None:
        return {"subject": subject, "link": None}
    url = link_url(request, link)
    return {
        "subject": subject,
        "link": link,
        "link_url": url,
        "whatsapp_url": whatsapp_url(subject, url),
        "qr": qr_data_uri(url),
    }


def active_link(subject: DataSubject) -> ConsentLink | None:
    return (
        ConsentLink.objects.active()
        .filter(subject=subject, kind=ConsentLink.Kind.PERSONAL)
        .order_by("-created_at")
        .first()
    )


@org_view("capture_consent")
@require_POST
def link_create(request, pk):
    subject = get_for_org_or_404(DataSubject, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.consent_link_for_subject(
            subject=subject, created_by=request.user, request=request
        ),
    )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("consents:subject", org_slug=request.organisation.slug, pk=subject.pk)


@org_view("withdraw_consent")
@require_POST
def link_revoke(request, pk):
    link = _revoke(request, pk, ConsentLink.Kind.PERSONAL)
    return redirect("consents:subject", org_slug=request.organisation.slug, pk=link.subject_id)


def _revoke(request, pk, kind: str) -> ConsentLink:
    link = get_for_org_or_404(ConsentLink, request.organisation, pk=pk, kind=kind)
    services.consent_link_revoke(link=link, revoked_by=request.user, request=request)
    messages.success(request, _("The link no longer works. Consent already given stays."))
    return link


@org_view("manage_purposes")
def generic_links(request):
    org = request.organisation
    form = GenericLinkForm(request.POST or None, organisation=org)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.consent_link_create(
                organisation=org,
                created_by=request.user,
                purposes=list(form.cleaned_data["purposes"]),
                days=form.cleaned_data["days"],
                label=form.cleaned_data["label"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("consents:generic_poster", org_slug=org.slug, pk=link.pk)
    links = (
        ConsentLink.objects.filter(organisation=org, kind=ConsentLink.Kind.GENERIC)
        .select_related("created_by")
        .prefetch_related("purposes")
    )
    return render(request, "consents/generic_links.html", {"form": form, "links": links})


@org_view("manage_purposes")
def generic_poster(request, pk):
    link = get_for_org_or_404(ConsentLink, request.organisation, pk=pk, kind="generic")
    url = link_url(request, link)
    return render(
        request,
        "consents/generic_poster.html",
        {"link": link, "link_url": url, "qr": qr_data_uri(url, scale=10)},
    )


@org_view("manage_purposes")
@require_POST
def generic_revoke(request, pk):
    _revoke(request, pk, ConsentLink.Kind.GENERIC)
    return redirect("consents:generic_links", org_slug=request.organisation.slug)
