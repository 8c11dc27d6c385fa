"""URLs for the error-page tests: the project's own, plus one view that fails."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def _fail(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("boom/", _fail), *project_urlpatterns]
