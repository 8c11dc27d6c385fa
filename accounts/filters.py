import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, register_label


class AuditEntryFilter(django_filters.FilterSet):
    user = django_filters.ChoiceFilter(
        label=_("Who"), field_name="user_id", empty_label=_("Anyone")
    )
    register = django_filters.ChoiceFilter(label=_("Register"), empty_label=_("All registers"))
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEntry
        fields = ["user", "register", "since", "until"]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        members = organisation.memberships.select_related("user").order_by("user__email")
        self.filters["user"].extra["choices"] = [(m.user_id, m.user.display_name) for m in members]
        registers = (
            AuditEntry.objects.filter(organisation=organisation)
            .order_by("register")
            .values_list("register", flat=True)
            .distinct()
        )
        self.filters["register"].extra["choices"] = [(r, register_label(r)) for r in registers]
