"""The project's URLs with one more: the bare Django JSON view the API is measured against."""

from django.http import JsonResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urls


def bare(request):
    """What any Django view costs on this server: no key, no query, one small JSON answer."""
    return JsonResponse({"allowed": True})


urlpatterns = [path("bench/bare/", bare), *project_urls]

__all__ = ["handler404", "handler500", "urlpatterns"]
