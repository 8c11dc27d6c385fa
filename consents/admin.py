"""Admin for the consent register. The ledger and everything derived from it are read-only here:
the only writer of ConsentEvent is consents/services.py (and the database refuses the rest)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin

from .models import (
    ConsentEvent,
    ConsentLink,
    ConsentState,
    DataSubject,
    IntegrityCheck,
    LedgerCheckpoint,
    LedgerHead,
    NoticeVersion,
    Proof,
    ProofFile,
    Purpose,
    SuppressedNumber,
    UnconfirmedAnswer,
)


@admin.register(DataSubject)
class DataSubjectAdmin(SimpleHistoryAdmin):
    list_display = ["full_name", "phone", "organisation", "kind", "status", "created_at"]
    list_filter = ["organisation", "kind", "status"]
    search_fields = ["full_name", "phone", "email", "external_ref"]
    # Restricted, blocked and purged are set only by the rights-request services
    # (rights_requests.fulfilment and rights_requests.purge), never by hand.
    readonly_fields = [
        "status",
        "restricted_at",
        "restriction_request_pk",
        "blocked_at",
        "purge_after",
        "erasure_request_pk",
        "purged_at",
    ]

    def has_delete_permission(self, request, obj=None):
        # Erasure is block-then-purge through the rights-request process, never a delete here.
        return False


@admin.register(Purpose)
class PurposeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "organisation", "category", "legal_basis", "active"]
    list_filter = ["organisation", "category", "legal_basis", "active"]
    search_fields = ["code", "name"]


@admin.register(NoticeVersion)
class NoticeVersionAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "language", "version", "published_at", "sha256"]
    list_filter = ["organisation", "language"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "organisation", "subject", "purpose", "action", "channel"]
    list_filter = ["organisation", "action", "channel"]
    date_hierarchy = "recorded_at"


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "purpose", "action", "captured_at"]
    list_filter = ["organisation", "action"]


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "sequence", "hash"]


@admin.register(IntegrityCheck)
class IntegrityCheckAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "checked_at", "ok", "events_checked", "broken_sequence"]
    list_filter = ["organisation", "ok"]


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "sequence", "signed_at", "head_hash", "triggered_by"]
    list_filter = ["organisation"]
    exclude = ["signature", "timestamp_token"]


@admin.register(Proof)
class ProofAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organisation", "subject", "created_at"]


@admin.register(ProofFile)
class ProofFileAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "organisation", "content_type", "size", "sha256"]


@admin.register(ConsentLink)
class ConsentLinkAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organisation", "kind", "subject", "expires_at", "revoked_at"]
    list_filter = ["organisation", "kind"]
    exclude = ["token"]


@admin.register(UnconfirmedAnswer)
class UnconfirmedAnswerAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organisation", "subject", "purpose", "status", "submitted_at"]
    list_filter = ["organisation", "status"]


@admin.register(SuppressedNumber)
class SuppressedNumberAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "phone_hmac", "reason", "request_pk", "created_at"]
    list_filter = ["organisation", "reason"]
