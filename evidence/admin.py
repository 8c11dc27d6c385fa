from django.contrib import admin

from .models import SigningCertificate


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
