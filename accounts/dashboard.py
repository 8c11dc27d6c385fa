"""Dashboard panels: each app contributes one through settings.DASHBOARD_PANELS.

A provider takes the request (with request.organisation and request.membership set) and returns
a dict with a ``template`` key and the panel's figures, or None to show nothing.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def dashboard_panels():
    return [import_string(path) for path in settings.DASHBOARD_PANELS]
