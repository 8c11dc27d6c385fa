"""The DPO's API keys page: make a key (shown once), see when each was last used, revoke."""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell

from .forms import ApiKeyForm
from .models import ApiKey
from .services import api_key_create, api_key_revoke


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
