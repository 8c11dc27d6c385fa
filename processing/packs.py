"""The record of processing activities in an evidence pack (registered with
evidence.packs.register_section in ProcessingConfig.ready()): ropa.pdf (signed) and ropa.csv, as
the record stood at the end of the pack's last day, or now for a pack with no end date."""

from django.utils import translation

from .exports import read_register, ropa_csv, ropa_pdf

PDF_NAME = "ropa.pdf"
CSV_NAME = "ropa.csv"


def ropa_section(*, organisation, scope, write, timestamper=None):
    if not scope.include_ropa:
        return None
    with translation.override(organisation.default_language):
        register = read_register(organisation, scope.date_to)
        write(PDF_NAME, ropa_pdf(register, timestamper=timestamper))
        write(CSV_NAME, ropa_csv(register))
    return "record_of_processing", {
        "regulation": "GDPR Art. 30",
        "as_of": register.moment.isoformat(),
        "activities": len(register.activities),
        "processor_records": len(register.processors),
        "files": [PDF_NAME, CSV_NAME],
        "signed": PDF_NAME,
    }
