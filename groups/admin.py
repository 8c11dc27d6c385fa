from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin

from .models import (
    GroupMembership,
    PolicyAcknowledgement,
    RosterCheck,
    StaffAccount,
    UsagePolicyVersion,
    WhatsAppGroup,
)


@admin.register(WhatsAppGroup)
class WhatsAppGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organisation", "kind", "status", "created_at"]
    list_filter = ["organisation", "kind", "status"]
    search_fields = ["name"]
    exclude = ["invite_token"]


@admin.register(GroupMembership)
class GroupMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["subject", "group", "joined_via", "joined_at", "left_at"]
    list_filter = ["group__organisation", "joined_via"]


@admin.register(StaffAccount)
class StaffAccountAdmin(SimpleHistoryAdmin):
    list_display = ["phone", "organisation", "number_type", "app", "active"]
    list_filter = ["organisation", "number_type", "app", "active"]


@admin.register(RosterCheck)
class RosterCheckAdmin(ReadOnlyAdmin):
    list_display = ["group", "checked_at", "checked_by"]


@admin.register(UsagePolicyVersion)
class UsagePolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "organisation", "published_at", "sha256"]


@admin.register(PolicyAcknowledgement)
class PolicyAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["policy", "user", "acknowledged_at"]
