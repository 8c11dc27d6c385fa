"""Gaps in the record of processing activities, found in the data (shown to the DPO on the
register page and on the dashboard).

Definitions, so an auditor can recompute them; "in force" means draft or active:
- purpose_without_activity: an active purpose of the consent register that no activity in force
  lists (GDPR Art. 30(1)(b): every purpose belongs to the record).
- transfer_without_safeguard: a transfer to a third country with no safeguard chosen, in an
  activity or processor record in force; or an activity with a recipient outside the EEA and
  no transfer recorded at all (Art. 30(1)(e), Chapter V).
- special_without_condition: an activity that processes special categories (Art. 9(1)) with a
  purpose that has no Art. 9(2) condition, or with no purpose at all.
- retention_missing: an activity with no time limit for erasure (Art. 30(1)(f)).
- dpia_missing: an activity marked as needing a DPIA that has no date it was done (Art. 35).
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from consents.models import Purpose

from .choices import Status
from .models import ActivityPurpose, ProcessingActivity, ProcessorRecord, Transfer

PURPOSE_WITHOUT_ACTIVITY = "purpose_without_activity"
TRANSFER_WITHOUT_SAFEGUARD = "transfer_without_safeguard"
SPECIAL_WITHOUT_CONDITION = "special_without_condition"
RETENTION_MISSING = "retention_missing"
DPIA_MISSING = "dpia_missing"

KINDS = (
    PURPOSE_WITHOUT_ACTIVITY,
    TRANSFER_WITHOUT_SAFEGUARD,
    SPECIAL_WITHOUT_CONDITION,
    RETENTION_MISSING,
    DPIA_MISSING,
)


@dataclass
class Finding:
    kind: str
    message: str
    link: str


def findings(organisation) -> list[Finding]:
    """Every gap of the organisation's record now, in the order of KINDS."""
    slug = organisation.slug
    found: list[Finding] = []
    activities = list(
        ProcessingActivity.objects.filter(organisation=organisation)
        .in_force()
        .prefetch_related("purpose_lines", "recipients", "transfers")
    )

    def edit(activity) -> str:
        return reverse("processing:activity", args=[slug, activity.pk])

    listed = ActivityPurpose.objects.filter(
        activity__organisation=organisation, activity__status__in=[Status.DRAFT, Status.ACTIVE]
    ).values("purpose")
    for purpose in Purpose.objects.filter(organisation=organisation, active=True).exclude(
        pk__in=listed
    ):
        found.append(
            Finding(
                PURPOSE_WITHOUT_ACTIVITY,
                _("The purpose “%(purpose)s” belongs to no processing activity.")
                % {"purpose": purpose.name},
                reverse("processing:activity_new", args=[slug]),
            )
        )

    for activity in activities:
        for transfer in activity.transfers.all():
            if not transfer.safeguard:
                found.append(
                    Finding(
                        TRANSFER_WITHOUT_SAFEGUARD,
                        _("“%(activity)s”: the transfer to %(country)s has no safeguard.")
                        % {"activity": activity, "country": transfer.country},
                        edit(activity),
                    )
                )
        abroad = [r for r in activity.recipients.all() if r.third_country]
        if abroad and not activity.transfers.all():
            found.append(
                Finding(
                    TRANSFER_WITHOUT_SAFEGUARD,
                    _(
                        "“%(activity)s”: %(recipient)s is outside the EEA but no transfer or "
                        "safeguard is recorded."
                    )
                    % {"activity": activity, "recipient": abroad[0].name},
                    edit(activity),
                )
            )
    for transfer in Transfer.objects.filter(
        record__organisation=organisation, record__status__in=[Status.DRAFT, Status.ACTIVE]
    ).select_related("record"):
        if not transfer.safeguard:
            found.append(
                Finding(
                    TRANSFER_WITHOUT_SAFEGUARD,
                    _("“%(activity)s”: the transfer to %(country)s has no safeguard.")
                    % {"activity": transfer.record, "country": transfer.country},
                    reverse("processing:processor", args=[slug, transfer.record_id]),
                )
            )

    for activity in activities:
        if not activity.has_special_categories:
            continue
        lines = list(activity.purpose_lines.all())
        if not lines or any(not line.art9_condition for line in lines):
            found.append(
                Finding(
                    SPECIAL_WITHOUT_CONDITION,
                    _(
                        "“%(activity)s” processes special categories of data without an "
                        "Art. 9(2) condition for each purpose."
                    )
                    % {"activity": activity},
                    edit(activity),
                )
            )

    for activity in activities:
        if not activity.retention.strip():
            found.append(
                Finding(
                    RETENTION_MISSING,
                    _("“%(activity)s” has no time limit for erasure.") % {"activity": activity},
                    edit(activity),
                )
            )

    for activity in activities:
        if activity.dpia_required and activity.dpia_done_on is None:
            found.append(
                Finding(
                    DPIA_MISSING,
                    _("“%(activity)s” needs a data protection impact assessment and has none.")
                    % {"activity": activity},
                    edit(activity),
                )
            )
    return found


def summary(organisation) -> dict:
    """Figures for the dashboard: activities in force, processor records, and the gaps."""
    gaps = findings(organisation)
    return {
        "activities": ProcessingActivity.objects.filter(organisation=organisation)
        .in_force()
        .count(),
        "processor_records": ProcessorRecord.objects.filter(organisation=organisation)
        .exclude(status=Status.RETIRED)
        .count(),
        "findings": gaps,
    }
