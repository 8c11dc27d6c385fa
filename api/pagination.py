from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


def _positive(request, name: str, *, default: int, most: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (most is not None and value > most):
        limit = _("a whole number from 1 to %(most)s") % {"most": most} if most else None
        raise serializers.ValidationError({name: [limit or _("A whole number from 1 up.")]})
    return value


class Pages(PageNumberPagination):
    """50 rows a page by default, up to 500 with ?page_size=. A page number or size that is not
    a whole number in range is a 400 that says so (not silently the default, nor a 404)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return _positive(request, self.page_size_query_param, default=50, most=500)

    def paginate_queryset(self, queryset, request, view=None):
        number = _positive(request, self.page_query_param, default=1)
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        last = max(1, paginator.num_pages)
        if number > last:
            raise serializers.ValidationError(
                {self.page_query_param: [_("There are %(n)s pages.") % {"n": last}]}
            )
        self.page = paginator.page(number)
        self.request = request
        return list(self.page)
