"""The public, consent-gated group invite (DOMAIN.md "Groups": people join by themselves).

No login. The group's real WhatsApp link is sent only as the Location of the redirect that
follows a recorded consent: no page, error or refusal ever contains it.
"""

from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_protect

from accounts import ratelimit
from accounts.request_info import client_ip, user_agent
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel, NoticeVersion, Purpose, PurposeCategory

from . import services
from .forms import InviteForm
from .models import WhatsAppGroup

# Per client IP (a guessing run over tokens) and per token (a flood on one link).
PER_IP = ratelimit.Limit("group-invite-ip", getattr(settings, "GROUP_INVITE_PER_IP", 60), 600)
PER_TOKEN = ratelimit.Limit(
    "group-invite-token", getattr(settings, "GROUP_INVITE_PER_TOKEN", 300), 600
)


# Chromium applies the page's CSP form-action to the redirect that follows the form, so the
# consent form may lead to WhatsApp's invite host (and nowhere else).
@csp_update({"form-action": ["https://chat.whatsapp.com"]})
@csrf_protect
def invite(request, token):
    ip = client_ip(request) or "unknown"
    if not ratelimit.hit(PER_IP, ip):
        return ratelimit.too_many(request, PER_IP)
    group = (
        WhatsAppGroup.objects.select_related("organisation", "purpose")
        .filter(invite_token=token)
        .first()
    )
    if group is None:
        raise Http404("No such invite")
    if not ratelimit.hit(PER_TOKEN, token):
        return ratelimit.too_many(request, PER_TOKEN)
    org = group.organisation
    if not group.is_active:
        return render(request, "groups/public/closed.html", {"org": org}, status=410)
    language = translation.get_language()
    notice = NoticeVersion.objects.to_show(group.purpose, language)
    audience = services.group_audience(group)
    others = [
        (purpose, NoticeVersion.objects.to_show(purpose, language))
        for purpose in Purpose.objects.filter(organisation=org, active=True)
        .filter(audience__in=["", audience])
        .exclude(category=PurposeCategory.GROUP_MEMBERSHIP)
        .order_by("name")
    ]
    others = [(p, n) for p, n in others if n is not None]
    form = InviteForm(
        request.POST or None,
        organisation=org,
        other_purposes=Purpose.objects.filter(pk__in=[p.pk for p, _n in others]),
    )
    if request.method == "POST" and notice is not None and form.is_valid():
        data = form.cleaned_data
        act = ConsentAct(
            decisions=[Decision(group.purpose, Action.GRANTED, notice)]
            + [Decision(p, Action.GRANTED, n) for p, n in others if p in data["purposes"]],
            channel=Channel.INVITE_LINK,
            by_subject=True,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
            idempotency_key=data["idempotency_key"],
        )
        try:
            membership = services.group_join_via_invite(
                group=group,
                full_name=data["full_name"],
                phone=data["phone"],
                act=act,
                language=notice.language,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if membership is None:
                # The number's earlier refusal or withdrawal stands until the person confirms
                # through their personal link: no WhatsApp link on an unattributable answer.
                return render(
                    request, "groups/public/confirm_first.html", {"org": org, "group": group}
                )
            return HttpResponseRedirect(group.invite_url)
    context = {
        "org": org,
        "group": group,
        "notice": notice,
        "others": others,
        "form": form,
        "checked": request.POST.getlist("purposes"),
    }
    return render(request, "groups/public/invite.html", context, status=200)
