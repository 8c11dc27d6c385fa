"""The person's own request pages: no login (GDPR Art. 12(2), facilitate the exercise of rights).

- /c/<token>/rights/: from their personal consent link, in their language; the identity comes
  with the link. It also lists their requests, shows a one-time code for a request that waits for
  identity, and the letters sent to them through it.
- /r/<slug>/: the organisation's public request form, for anyone. The page that follows says
  the same words whoever typed whatever: nobody learns from it whether a number is on record.

Every page is rate-limited per client IP (and per link token or organisation) before anything is
looked up; CSRF is on for every form.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Organisation
from accounts.ratelimit import Limit, hit, too_many
from accounts.request_info import client_ip
from consents.models import ConsentLink, DataSubject

from . import services
from .choices import CLOSED, SentVia
from .forms import PERSON_RIGHTS, LinkRequestForm, PublicRequestForm
from .models import RequestLetter, RightsRequest
from .views import letter_response


def _rate(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _limited(request, checks) -> object | None:
    for limit, key in checks:
        if not hit(limit, key):
            return too_many(request, limit)
    return None


def _ip(request) -> str:
    return client_ip(request) or "unknown"


def _digest(token: str) -> str:
    # A link token is a credential: only its digest goes into cache keys.
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _link_limits(request, token: str):
    checks = [
        (
            Limit("rights-link-ip", _rate("CONSENT_RATE_GET_PER_IP", 30), 60)
            if request.method == "GET"
            else Limit("rights-link-ip-post", _rate("CONSENT_RATE_POST_PER_IP", 10), 60),
            _ip(request),
        ),
        (Limit("rights-link-token", _rate("CONSENT_RATE_PER_TOKEN", 60), 3600), _digest(token)),
    ]
    if request.method == "POST":
        # Requests one person may send from their link in a day: a flood is not a request.
        per_day = Limit("rights-link-submit", _rate("RIGHTS_LINK_POSTS_PER_DAY", 20), 86400)
        checks.append((per_day, _digest(token)))
    return _limited(request, checks)


def _resolve_link(request, token: str):
    """(link, None) for a usable personal link, else (None, the page that refuses: too many
    tries, or the 404 or 410 page). The rate limit comes first: nothing is looked up before."""
    if limited := _link_limits(request, token):
        return None, limited
    link = (
        ConsentLink.objects.select_related("organisation", "subject")
        .filter(token=token, kind=ConsentLink.Kind.PERSONAL)
        .first()
    )
    if link is None:
        return None, render(request, "consents/public/link_gone.html", status=404)
    if not link.is_active or link.subject.status == DataSubject.Status.BLOCKED:
        return None, render(request, "consents/public/link_gone.html", status=410)
    return link, None


def _link_language(request, link) -> str:
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return translation.get_language()
    return link.subject.preferred_language


def _link_context(link, form, code_for=None, code=""):
    requests = (
        RightsRequest.objects.filter(organisation=link.organisation, subject=link.subject)
        .prefetch_related("letters")
        .order_by("-received_on", "-pk")[:20]
    )
    return {
        "link": link,
        "public_org": link.organisation,
        "form": form,
        "requests": requests,
        "closed": CLOSED,
        "code_for": code_for,
        "code": code,
        "code_minutes": services.IDENTITY_CODE_MINUTES,
        "via_link": SentVia.PERSONAL_LINK,
    }


@require_http_methods(["GET", "POST"])
def link_page(request, token):
    link, refused = _resolve_link(request, token)
    if refused:
        return refused
    language = _link_language(request, link)
    with translation.override(language):
        initial = {"right": request.GET.get("right", "")}
        form = LinkRequestForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                rights_request = services.request_from_link(
                    link=link, language=language, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you: your request is registered as %(reference)s. We will answer"
                        " by %(due)s at the latest."
                    )
                    % {
                        "reference": rights_request.reference,
                        "due": services.date_text(rights_request.current_due_on),
                    },
                )
                return redirect("rights_requests:link", token=link.token)
        return render(request, "rights_requests/public/link_page.html", _link_context(link, form))


@require_POST
def link_code(request, token):
    """Show a one-time code for one of the person's requests that waits for identity."""
    link, refused = _resolve_link(request, token)
    if refused:
        return refused
    with translation.override(_link_language(request, link)):
        wanted = request.POST.get("request", "")
        rights_request = RightsRequest.objects.filter(
            organisation=link.organisation,
            subject=link.subject,
            pk=int(wanted) if wanted.isdigit() else None,
        ).first()
        if rights_request is None:
            raise Http404
        try:
            code = services.request_identity_code_issue(rights_request=rights_request, link=link)
        except ValidationError as error:
            messages.info(request, " ".join(error.messages))
            return redirect("rights_requests:link", token=link.token)
        # Shown once, on this answer to the POST: the code itself is stored nowhere.
        context = _link_context(link, LinkRequestForm(), code_for=rights_request, code=code)
        response = render(request, "rights_requests/public/link_page.html", context)
        response["Cache-Control"] = "no-store"
        return response


def link_letter(request, token, pk):
    """A letter sent to the person through their personal link, as a download."""
    link, refused = _resolve_link(request, token)
    if refused:
        return refused
    letter = (
        RequestLetter.objects.select_related("request")
        .filter(
            pk=pk,
            organisation=link.organisation,
            request__subject=link.subject,
            sent_via=SentVia.PERSONAL_LINK,
        )
        .first()
    )
    if letter is None or not letter.file:
        raise Http404
    return letter_response(letter)


# --- the public form ------------------------------------------------------------------------


def _form_limits(request, slug: str):
    if request.method == "GET":
        checks = [(Limit("rights-form-ip", _rate("CONSENT_RATE_GET_PER_IP", 30), 60), _ip(request))]
    else:
        per_ip = Limit("rights-form-ip-post", _rate("RIGHTS_FORM_POSTS_PER_IP", 5), 3600)
        per_org = Limit("rights-form-org", _rate("RIGHTS_FORM_POSTS_PER_ORG", 200), 3600)
        checks = [(per_ip, _ip(request)), (per_org, slug)]
    return _limited(request, checks)


def _organisation_for_page(request, slug: str):
    """(organisation, None), or (None, the too-many-tries page); 404 for an unknown slug."""
    if limited := _form_limits(request, slug):
        return None, limited
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404("No such organisation")
    return organisation, None


@require_http_methods(["GET", "POST"])
def public_form(request, slug):
    organisation, refused = _organisation_for_page(request, slug)
    if refused:
        return refused
    language = translation.get_language()
    form = PublicRequestForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_from_public_form(
                organisation=organisation, language=language, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("rights_requests:public_sent", slug=organisation.slug)
    context = {"public_org": organisation, "form": form, "rights": PERSON_RIGHTS}
    return render(request, "rights_requests/public/request_form.html", context)


def public_sent(request, slug):
    """The one answer to every request sent through the form, known person or not."""
    organisation, refused = _organisation_for_page(request, slug)
    if refused:
        return refused
    return render(request, "rights_requests/public/request_sent.html", {"public_org": organisation})
