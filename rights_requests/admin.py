from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin

from .models import (
    IdentityCode,
    RequestAttachment,
    RequestLetter,
    RequestReminder,
    RightsRequest,
)


class AttachmentInline(admin.TabularInline):
    model = RequestAttachment
    extra = 0
    can_delete = False
    readonly_fields = ["original_name", "content_type", "size", "sha256", "created_at"]
    exclude = ["file", "created_by"]


class LetterInline(admin.TabularInline):
    model = RequestLetter
    extra = 0
    can_delete = False
    fields = ["kind", "language", "created_at", "sent_at", "sent_via", "sha256"]
    readonly_fields = fields


@admin.register(RightsRequest)
class RightsRequestAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    # Requests change through the services (deadlines, letters, blocking); the admin only reads.
    list_display = ["__str__", "organisation", "status", "received_on", "current_due_on"]
    list_filter = ["organisation", "right", "status"]
    search_fields = ["requester_name", "requester_email"]
    inlines = [AttachmentInline, LetterInline]


@admin.register(RequestReminder)
class RequestReminderAdmin(ReadOnlyAdmin):
    list_display = ["request", "stage", "due_on", "sent_at", "recipients"]


@admin.register(RequestAttachment)
class RequestAttachmentAdmin(ReadOnlyAdmin):
    list_display = ["request", "original_name", "content_type", "size", "created_at"]
    exclude = ["file"]


@admin.register(RequestLetter)
class RequestLetterAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["request", "kind", "language", "created_at", "sent_at", "sent_via"]
    exclude = ["file", "body"]


@admin.register(IdentityCode)
class IdentityCodeAdmin(ReadOnlyAdmin):
    # Only the keyed hash is stored; even that stays out of the admin.
    list_display = ["request", "created_at", "expires_at", "attempts", "used_at", "voided_at"]
    exclude = ["code_hash"]
