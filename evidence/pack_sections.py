"""Sections other registers add to an evidence pack (the rights-request register, say).

Those apps render their letters with evidence.pdf and sign them with evidence.signing, so
evidence cannot import them back: each registers its section here from its AppConfig.ready(),
and evidence.packs writes the ones the pack's scope asks for (PackScope option ``code``).

A section's ``write(*, organisation, scope, zip)`` adds its files to ``zip`` (a
packs.HashingZip: ``write_bytes(name, data)`` or ``open(name)``) and returns
``{"title": str, "figures": [(label, value), ...], "files": [names], "manifest": {...}}``:
the title and figures go into the signed summary, the manifest entry into manifest.json.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PackSection:
    code: str
    label: str  # lazy translation
    write: Callable


_SECTIONS: dict[str, PackSection] = {}


def register(section: PackSection) -> PackSection:
    existing = _SECTIONS.get(section.code)
    if existing is not None and existing.write is not section.write:
        raise ValueError(f"Pack section {section.code!r} is registered twice")
    _SECTIONS[section.code] = section
    return section


def get(code: str) -> PackSection | None:
    return _SECTIONS.get(code)
