"""Who is calling the API: `Authorization: Bearer <key>` (api.models.ApiKey), what the key may do
(api.scopes), and how often (a fixed window per key on the shared cache, accounts.ratelimit)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from accounts.ratelimit import Limit, hit, retry_after

from .services import api_key_find, api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the key as “Authorization: Bearer <key>”.")
            )
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key.")) from None
        key = api_key_find(plaintext)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        api_key_touch(key)
        request._request.organisation = key.organisation
        # The person answerable for what the key does is the DPO who made it: history and the
        # audit trail name them (and the caller's IP); ledger events also name the key.
        return key.created_by, key

    def authenticate_header(self, request):
        # A 401 names the scheme (RFC 6750), rather than DRF's 403 for "no credentials".
        return self.keyword


class HasPermission(permissions.BasePermission):
    """Each API view names the page permission it needs (``permission``); the key's scopes must
    grant it. Object lookups go through the key's organisation, so other organisations' rows
    are 404, as for pages."""

    message = _("This API key's scopes do not allow this.")

    def has_permission(self, request, view):
        key = request.auth
        if key is None:
            raise exceptions.NotAuthenticated(_("Send an API key: “Authorization: Bearer <key>”."))
        needed = getattr(view, "permission", None)
        if needed is None:
            return False
        if isinstance(needed, dict):
            needed = needed.get(request.method, needed.get("*"))
        return bool(needed) and key.grants(needed)


class PerKeyThrottle(throttling.BaseThrottle):
    """API_RATE_PER_KEY calls a minute per key (default 6000): the consent check of a campaign
    goes in batches of 1,000 numbers, so this is plenty for a tool and a wall for a runaway."""

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True
        self.limit = Limit("api", settings.API_RATE_PER_KEY, 60)
        return hit(self.limit, str(key.pk))

    def wait(self):
        return retry_after(self.limit)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made by the organisation's DPO (Settings › API keys).",
        }
