"""Every refusal is JSON with the reason, and nothing was written (invariant 7).

A service refuses with Django's ValidationError (the rule book's messages, as the pages show
them): it becomes a 400 whose fields are those the message names ("non_field_errors" for a
rule about the act as a whole). A missing row is a 404, never a 500.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler


def api_exception_handler(error, context):
    if isinstance(error, DjangoValidationError):
        if hasattr(error, "error_dict"):
            detail = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()
            }
        else:
            detail = {"non_field_errors": error.messages}
        error = exceptions.ValidationError(detail)
    return exception_handler(error, context)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """An address under /api/ that matches no route (a text where an id goes, say) is a JSON
    404 like any other API refusal; every other address gets the page."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": _("Server error: nothing was written.")}, status=500)
    return defaults.server_error(request)
