"""The DPO's API keys page (make a key, shown once; see when each was last used; revoke) and
webhooks page (where withdrawals and objections are sent; the delivery log)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell

from .forms import ApiKeyForm, WebhookForm
from .models import ApiKey, Webhook, WebhookDelivery
from .services import api_key_create, api_key_revoke
from .webhooks import SIGNATURE_HEADER, webhook_create, webhook_disable


@never_cache
@org_view("manage_api_keys")
def key_list(request):
    org = request.organisation
    form = ApiKeyForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = api_key_create(
                organisation=org,
                user=request.user,
                request=request,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = ApiKeyForm()
    keys = ApiKey.objects.filter(organisation=org).select_related("created_by", "revoked_by")
    return render(
        request,
        "api/key_list.html",
        {
            "form": form,
            "keys": keys,
            "made": made[0] if made else None,
            # Shown in this answer only: the page is not cached and the key is not stored.
            "plaintext": made[1] if made else "",
            "api_base": request.build_absolute_uri("/api/v1/"),
        },
    )


@org_view("manage_api_keys")
@require_POST
def key_revoke(request, pk):
    key = get_for_org_or_404(ApiKey, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: api_key_revoke(key=key, user=request.user, request=request),
        _("The key “%(name)s” is revoked: calls with it are refused from now on.")
        % {"name": key.name},
    )
    return redirect("api:keys", org_slug=request.organisation.slug)


@never_cache
@org_view("manage_api_keys")
def webhook_list(request):
    org = request.organisation
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_create(
                organisation=org,
                user=request.user,
                request=request,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except ValidationError as error:
            form.add_error("url", error)
        else:
            messages.success(request, _("The webhook is added. Check signatures with its secret."))
            return redirect("api:webhooks", org_slug=org.slug)
    hooks = Webhook.objects.filter(organisation=org)
    deliveries = WebhookDelivery.objects.filter(webhook__organisation=org).select_related(
        "webhook"
    )[:50]
    return render(
        request,
        "api/webhook_list.html",
        {"form": form, "hooks": hooks, "deliveries": deliveries, "header": SIGNATURE_HEADER},
    )


@org_view("manage_api_keys")
@require_POST
def webhook_disable_view(request, pk):
    hook = get_for_org_or_404(Webhook, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: webhook_disable(webhook=hook, user=request.user, request=request),
        _("The webhook is switched off: nothing more is sent to it."),
    )
    return redirect("api:webhooks", org_slug=request.organisation.slug)
