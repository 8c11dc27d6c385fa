"""Verify one organisation's whole chain in a process of its own, so its peak memory is its own.

`run` starts `python -m bench verify --org SLUG` and reads the JSON line it prints.
"""

import json
import sys
import time

from accounts.models import Organisation
from consents.models import LedgerHead
from consents.services import ledger_verify_chain

from .report import current_rss_mb, peak_rss_mb


def verify_json(*, slug: str) -> str:
    organisation = Organisation.objects.get(slug=slug)
    # Connected and imported: what is left to grow is the verification itself.
    LedgerHead.objects.filter(organisation=organisation).exists()
    baseline = current_rss_mb()
    started = time.perf_counter()
    result = ledger_verify_chain(organisation=organisation)
    seconds = time.perf_counter() - started
    return json.dumps(
        {
            "ok": result.ok,
            "events_checked": result.events_checked,
            "head_sequence": result.head_sequence,
            "broken_sequence": result.broken_sequence,
            "reason": str(result.reason),
            "seconds": seconds,
            "rss_baseline_mb": baseline,
            "rss_peak_mb": peak_rss_mb(),
            "python": sys.version.split()[0],
        }
    )
