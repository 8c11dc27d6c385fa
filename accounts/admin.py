from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditEntry, Invitation, Membership, Organisation, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["legal_name", "slug", "tax_id", "country", "created_at"]
    search_fields = ["legal_name", "slug", "tax_id"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        # An organisation's records are evidence: they are never deleted from the admin.
        return False


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation"]
    autocomplete_fields = ["user", "organisation"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are evidence (audit trail, ledger, published texts): look, never touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "organisation", "user", "action", "register", "object_repr", "ip_address"]
    list_filter = ["action", "register", "organisation"]
    date_hierarchy = "at"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    # Offers and their answers are on record; they change only through accounts.services.
    list_display = ["email", "organisation", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "organisation"]
    search_fields = ["email"]
