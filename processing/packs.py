"""The record of processing activities in an evidence pack (evidence.pack_sections, code
"ropa"): ropa.pdf, signed, and ropa.csv, the record as it stood at the end of the pack's last
day, or now for a pack with no end date, in the organisation's language."""

from django.utils import translation
from django.utils.translation import gettext as _

from .exports import read_register, ropa_csv, ropa_pdf

PDF_NAME = "ropa.pdf"
CSV_NAME = "ropa.csv"


def write_ropa(*, organisation, scope, zip) -> dict:
    with translation.override(organisation.default_language):
        register = read_register(organisation, scope.date_to)
        zip.write_bytes(PDF_NAME, ropa_pdf(register))
        zip.write_bytes(CSV_NAME, ropa_csv(register))
        files = [PDF_NAME, CSV_NAME]
        return {
            "title": _("Record of processing activities (GDPR Art. 30)"),
            "figures": [
                (_("As it stood on"), register.moment.isoformat(timespec="seconds")),
                (_("Activities"), len(register.activities)),
                (_("Processor records"), len(register.processors)),
            ],
            "files": files,
            "manifest": {
                "regulation": "GDPR Art. 30",
                "as_of": register.moment.isoformat(),
                "activities": len(register.activities),
                "processor_records": len(register.processors),
                "files": files,
                "signed": PDF_NAME,
            },
        }
