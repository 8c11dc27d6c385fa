import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .models import Action, Channel, ConsentEvent, ConsentState, Purpose
from .phones import try_parse_phone


class ConsentRegisterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or phone"), method="search")
    purpose = django_filters.ModelChoiceFilter(
        label=_("Purpose"), queryset=Purpose.objects.none(), empty_label=_("All purposes")
    )
    action = django_filters.ChoiceFilter(
        label=_("State"), choices=Action.choices, empty_label=_("Any state")
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"),
        field_name="event__channel",
        choices=Channel.choices,
        empty_label=_("Any channel"),
    )
    recorded_by = django_filters.ChoiceFilter(
        label=_("Recorded by"), field_name="event__recorded_by", empty_label=_("Anyone")
    )
    confirmation = django_filters.ChoiceFilter(
        label=_("Confirmation by the person"),
        choices=[
            ("confirmed", _("confirmed by the person")),
            ("awaiting", _("awaiting confirmation")),
        ],
        empty_label=_("Any"),
        method="by_confirmation",
    )
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="captured_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="captured_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ConsentState
        fields = [
            "q",
            "purpose",
            "action",
            "channel",
            "recorded_by",
            "confirmation",
            "since",
            "until",
        ]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.filters["purpose"].queryset = Purpose.objects.filter(organisation=organisation)
        members = organisation.memberships.select_related("user").order_by("user__email")
        self.filters["recorded_by"].extra["choices"] = [
            (m.user_id, m.user.display_name) for m in members
        ]

    def search(self, queryset, name, value):
        phone = try_parse_phone(value, self.organisation.country)
        if phone is not None:
            # With the organisation, the (organisation, phone) unique index finds it directly.
            return queryset.filter(subject__organisation=self.organisation, subject__phone=phone)
        return queryset.filter(subject__full_name__icontains=value.strip())

    def by_confirmation(self, queryset, name, value):
        """Double opt-in of staff-logged consent: granted states whose event the person confirmed
        (the state now points at the confirmation, or a confirmation points at it) or not."""
        confirmed = Exists(ConsentEvent.objects.filter(confirms=OuterRef("event")))
        granted = queryset.filter(action=Action.GRANTED)
        if value == "confirmed":
            return granted.filter(Q(event__confirms__isnull=False) | confirmed)
        return granted.filter(event__by_subject=False).exclude(confirmed)
