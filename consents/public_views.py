"""The pages a person opens from a consent link: no login, no trace of anyone else.

Every request is rate-limited per client IP and per token before the token is even looked up, so
guessing tokens or flooding one link gets a "try again later" page (429), never the ledger.
Unknown tokens get 404 and expired or revoked ones 410: neither page says whose link it was.
"""

import functools
import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.ratelimit import Limit, hit, too_many
from accounts.request_info import client_ip, user_agent

from . import selectors, services
from .acts import ConsentAct, withdrawal
from .forms import PublicConsentForm
from .models import Channel, ConsentLink, DataSubject, Purpose


def _limits(method: str) -> tuple[Limit, Limit]:
    per_ip = (
        Limit("consent-ip-get", settings.CONSENT_RATE_GET_PER_IP, 60)
        if method == "GET"
        else Limit("consent-ip-post", settings.CONSENT_RATE_POST_PER_IP, 60)
    )
    return per_ip, Limit("consent-token", settings.CONSENT_RATE_PER_TOKEN, 3600)


def _rate_limited(request, token: str):
    """A 429 page once this IP or this token has used up its window, else None."""
    per_ip, per_token = _limits(request.method)
    # The token is a credential: only its digest goes into cache keys.
    token_key = hashlib.sha256(token.encode()).hexdigest()[:32]
    for limit, key in ((per_ip, client_ip(request) or "unknown"), (per_token, token_key)):
        if not hit(limit, key):
            return too_many(request, limit)
    return None


def _resolve(request, token: str):
    """(link, None) for a usable link, else (None, the 404 or 410 page)."""
    link = ConsentLink.objects.select_related("organisation", "subject").filter(token=token).first()
    if link is None:
        return None, render(request, "consents/public/link_gone.html", status=404)
    blocked = link.subject is not None and link.subject.status == DataSubject.Status.BLOCKED
    if not link.is_active or blocked:
        return None, render(request, "consents/public/link_gone.html", status=410)
    return link, None


def _link_page(view):
    """The view for a usable link: rate limits first (429), then the token (404 or 410)."""

    @functools.wraps(view)
    def wrapped(request, token):
        if limited := _rate_limited(request, token):
            return limited
        link, gone = _resolve(request, token)
        return gone or view(request, link)

    return wrapped


def _language(request, link: ConsentLink) -> str:
    """The person's language unless they picked one with the language switcher."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return translation.get_language()
    if link.subject is not None:
        return link.subject.preferred_language
    return link.organisation.default_language


@require_http_methods(["GET", "POST"])
@_link_page
def consent_page(request, link):
    language = _language(request, link)
    with translation.override(language):
        choices = selectors.public_choices(link=link, language=language, subject=link.subject)
        form = PublicConsentForm(request.POST or None, link=link, choices=choices)
        if request.method == "POST" and form.is_valid():
            try:
                services.public_consent_submit(
                    link=link,
                    act=form.act(request),
                    language=language,
                    full_name=form.cleaned_data.get("full_name"),
                    phone=form.cleaned_data.get("phone"),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                if link.subject_id:
                    messages.success(request, _("Thank you: your choices are recorded."))
                else:
                    # The same words whatever happened: a poster's page reveals nothing about a
                    # number (known or not, an earlier answer waiting for confirmation or not).
                    messages.success(
                        request,
                        _(
                            "Thank you: your answer was received. If it changes an earlier answer,"
                            " the organisation will send you your personal link to confirm it."
                        ),
                    )
                return redirect("consents:public", token=link.token)
        return render(
            request,
            "consents/public/consent_page.html",
            {"link": link, "public_org": link.organisation, "choices": choices, "form": form},
        )


@require_POST
@_link_page
def withdraw(request, link):
    with translation.override(_language(request, link)):
        purpose = Purpose.objects.filter(
            organisation=link.organisation, pk=request.POST.get("purpose") or None
        ).first()
        if link.subject is None or purpose is None:
            messages.error(request, _("Nothing to withdraw."))
            return redirect("consents:public", token=link.token)
        try:
            services.public_withdraw(
                link=link,
                act=ConsentAct(
                    decisions=withdrawal(purpose),
                    channel=Channel.WEB_FORM,
                    ip_address=client_ip(request),
                    user_agent=user_agent(request),
                ),
            )
        except ValidationError:
            messages.info(request, _("You had not agreed to “%(purpose)s”.") % _named(purpose))
        else:
            messages.success(
                request, _("Done: you withdrew your consent to “%(purpose)s”.") % _named(purpose)
            )
    return redirect("consents:public", token=link.token)


def _named(purpose) -> dict:
    return {"purpose": purpose.name}
