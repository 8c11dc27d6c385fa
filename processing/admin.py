from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    ActivityPurpose,
    ProcessingActivity,
    ProcessorRecord,
    Recipient,
    ServedController,
    Transfer,
)


class ActivityPurposeInline(admin.TabularInline):
    model = ActivityPurpose
    extra = 0


class RecipientInline(admin.TabularInline):
    model = Recipient
    extra = 0


class ActivityTransferInline(admin.TabularInline):
    model = Transfer
    fk_name = "activity"
    exclude = ["record"]
    extra = 0


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "reference", "organisation", "status", "updated_at"]
    list_filter = ["organisation", "status"]
    search_fields = ["name", "reference"]
    inlines = [ActivityPurposeInline, RecipientInline, ActivityTransferInline]

    def has_delete_permission(self, request, obj=None):
        # The record is evidence: activities are retired, never deleted.
        return False


@admin.register(ActivityPurpose)
class ActivityPurposeAdmin(SimpleHistoryAdmin):
    list_display = ["activity", "purpose", "legal_basis", "art9_condition"]
    list_filter = ["activity__organisation", "legal_basis"]


@admin.register(Recipient)
class RecipientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "activity", "kind", "country", "third_country"]
    list_filter = ["activity__organisation", "kind", "third_country"]


@admin.register(Transfer)
class TransferAdmin(SimpleHistoryAdmin):
    list_display = ["country", "activity", "record", "safeguard"]
    list_filter = ["safeguard"]


class ServedControllerInline(admin.TabularInline):
    model = ServedController
    extra = 0


@admin.register(ProcessorRecord)
class ProcessorRecordAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organisation", "status", "updated_at"]
    list_filter = ["organisation", "status"]
    inlines = [ServedControllerInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServedController)
class ServedControllerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "record"]
