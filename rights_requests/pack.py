"""The rights-request register in an evidence pack (evidence.pack_sections, code "requests").

For the pack's period (by day of receipt) and, when the pack names people, their requests only:
requests/requests.csv and requests/requests.json, one record per request with the dates the AEPD
asks about (received, due, extended and when the person was told, answered) and whether it was
answered on time; and requests/letters/, the signed answer, refusal and extension letters, each
named in its record with its SHA-256. Like the ledger's records, a request names the person by
subject id only; the letters are addressed to them.
"""

import csv
import io
import json

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.csvsafe import csv_safe

from .choices import LetterKind
from .letters import letter_filename
from .models import RightsRequest

FIELDS = [
    "reference",
    "id",
    "right",
    "channel",
    "status",
    "subject_id",
    "received_on",
    "due_on",
    "extension_months",
    "extension_notified_on",
    "current_due_on",
    "days_clock_stopped",
    "identity_method",
    "identity_verified_at",
    "carried_out_at",
    "closed_on",
    "on_time",
    "letters",
]
# The letters that prove the outcome and the extension notice.
PACK_LETTERS = (LetterKind.ANSWER, LetterKind.REJECTION, LetterKind.EXTENSION)


def _instant(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _requests(organisation, scope):
    requests = RightsRequest.objects.filter(organisation=organisation)
    if scope.date_from:
        requests = requests.filter(received_on__gte=scope.date_from)
    if scope.date_to:
        requests = requests.filter(received_on__lte=scope.date_to)
    if scope.subject_ids:
        requests = requests.filter(subject_id__in=scope.subject_ids)
    return requests.prefetch_related("letters").order_by("received_on", "pk")


def record(rights_request: RightsRequest, letters: list[dict]) -> dict:
    return {
        "reference": rights_request.reference,
        "id": rights_request.pk,
        "right": rights_request.right,
        "channel": rights_request.channel,
        "status": rights_request.status,
        "subject_id": rights_request.subject_id,
        "received_on": _day(rights_request.received_on),
        "due_on": _day(rights_request.due_on),
        "extension_months": rights_request.extension_months,
        "extension_notified_on": _day(rights_request.extension_notified_on),
        "current_due_on": _day(rights_request.current_due_on),
        "days_clock_stopped": rights_request.days_stopped,
        "identity_method": rights_request.identity_method,
        "identity_verified_at": _instant(rights_request.identity_verified_at),
        "carried_out_at": _instant(rights_request.carried_out_at),
        "closed_on": _day(rights_request.closed_on),
        "on_time": rights_request.answered_on_time
        if rights_request.status in ("answered", "rejected")
        else None,
        "letters": letters,
    }


def write_register(*, organisation, scope, zip) -> dict:
    records, files = [], []
    counts = {"total": 0, "on_time": 0, "late": 0, "open": 0, "extended": 0}
    for rights_request in _requests(organisation, scope).iterator(chunk_size=500):
        letters = []
        for letter in rights_request.letters.all():
            if letter.kind not in PACK_LETTERS or not letter.file:
                continue
            name = f"requests/letters/{letter_filename(letter)}"
            with letter.file.open("rb") as handle:
                zip.write_bytes(name, handle.read())
            files.append(name)
            letters.append(
                {
                    "kind": letter.kind,
                    "file": name,
                    "sha256": letter.sha256,
                    "sent_at": _instant(letter.sent_at),
                    "sent_via": letter.sent_via,
                }
            )
        entry = record(rights_request, letters)
        records.append(entry)
        counts["total"] += 1
        counts["extended"] += bool(rights_request.extension_months)
        if entry["on_time"] is True:
            counts["on_time"] += 1
        elif entry["on_time"] is False:
            counts["late"] += 1
        elif rights_request.is_open:
            counts["open"] += 1
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for entry in records:
        flat = {**entry, "letters": " ".join(item["file"] for item in entry["letters"])}
        flat["on_time"] = "" if entry["on_time"] is None else ("yes" if entry["on_time"] else "no")
        writer.writerow({k: csv_safe("" if v is None else v) for k, v in flat.items()})
    zip.write_bytes("requests/requests.csv", out.getvalue().encode("utf-8"))
    zip.write_bytes(
        "requests/requests.json",
        json.dumps(records, indent=1, ensure_ascii=False).encode("utf-8"),
    )
    files = ["requests/requests.csv", "requests/requests.json", *files]
    return {
        "title": _("Rights requests (GDPR Art. 12-21)"),
        "figures": [
            (_("Requests received in the period"), counts["total"]),
            (_("Answered or refused on time"), counts["on_time"]),
            (_("Answered or refused late"), counts["late"]),
            (_("Still open"), counts["open"]),
            (_("Extended (Art. 12(3))"), counts["extended"]),
        ],
        "files": files,
        "manifest": {"files": files, **counts},
    }
