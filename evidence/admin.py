from django.contrib import admin

from .models import ExportJob, SigningCertificate


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "organisation", "kind", "status", "requested_by", "created_at"]
    list_filter = ["kind", "status", "organisation"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SigningCertificate)
class SigningCertificateAdmin(admin.ModelAdmin):
    list_display = ["subject_name", "organisation", "self_signed", "not_after", "active"]
    exclude = ["pkcs12_encrypted", "password_encrypted"]
    readonly_fields = [
        "organisation",
        "subject_name",
        "issuer_name",
        "serial_number",
        "fingerprint_sha256",
        "not_before",
        "not_after",
        "self_signed",
        "certificate_pem",
        "created_by",
    ]

    def has_add_permission(self, request):
        return False
