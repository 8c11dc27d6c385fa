"""Which kinds of job exist and what runs each: every app registers its own in AppConfig.ready().

The jobs app knows nothing of evidence, imports or rights requests: it runs whatever runner a
kind names. A runner is ``runner(*, job, worker, on_progress=None)``: it reports progress with
jobs.services.job_progress and ends with jobs.services.job_finish (same claim fencing for all).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    code: str
    label: str  # a lazy translation: shown on the Exports page
    runner: Callable
    # Whether the result is a file people download (and finishing it is an audited export).
    has_file: bool = True
    # The page that starts a job of this kind, if it has one (a URL name taking org_slug).
    start_url: str = ""
    start_label: str = ""
    # What the job covers, in the reader's language (else its stored description is shown).
    describe: Callable | None = None


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    existing = _KINDS.get(kind.code)
    if existing is not None and existing.runner is not kind.runner:
        raise ValueError(f"Job kind {kind.code!r} is registered twice")
    _KINDS[kind.code] = kind
    return kind


def get(code: str) -> JobKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"No job kind {code!r}: is its app installed?") from None


def all_kinds() -> list[JobKind]:
    return list(_KINDS.values())
