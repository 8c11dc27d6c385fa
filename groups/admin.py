from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RosterCheck)
class RosterCheckAdmin(ReadOnly):
    list_display = ["group", "checked_at", "checked_by"]


@admin.register(UsagePolicyVersion)
class UsagePolicyVersionAdmin(ReadOnly):
    list_display = ["version", "organisation", "published_at", "sha256"]


@admin.register(PolicyAcknowledgement)
class PolicyAcknowledgementAdmin(ReadOnly):
    list_display = ["policy", "user", "acknowledged_at"]
