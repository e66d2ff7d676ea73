"""Importers: one module per source format, registered in :data:`IMPORTERS`.

Adding a platform is one module with a class that has ``name``, ``description``,
``sniff(path, head)`` and ``read(source, options)``, plus one line here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from equilibrio.errors import ConfigurationError, EmptyInputError, FormatDetectionError
from equilibrio.io._base import Batch, Importer, ImportOptions, Reject, Source
from equilibrio.io.bluesky import BlueskyImporter
from equilibrio.io.conversions import ConversionsCsvImporter
from equilibrio.io.facebook import FacebookGraphImporter, FacebookUciImporter
from equilibrio.io.generic_csv import GenericCsvImporter
from equilibrio.io.generic_json import GenericJsonImporter
from equilibrio.io.ibm_care import IbmCustomerCareImporter
from equilibrio.io.jsonl import JsonLinesImporter
from equilibrio.io.mastodon import MastodonImporter
from equilibrio.io.twitter import TwitterApiV2Importer, TwitterArchiveImporter, TwitterCsvImporter

# Order matters for detection: specific formats before generic ones.
IMPORTERS: Final[tuple[Importer, ...]] = (
    TwitterArchiveImporter(),
    IbmCustomerCareImporter(),
    BlueskyImporter(),
    MastodonImporter(),
    FacebookGraphImporter(),
    TwitterApiV2Importer(),
    FacebookUciImporter(),
    ConversionsCsvImporter(),
    GenericCsvImporter(),
    TwitterCsvImporter(),
    GenericJsonImporter(),
    JsonLinesImporter(),
)

__all__ = ["IMPORTERS", "Batch", "ImportOptions", "Importer", "Reject", "Source", "detect_format", "get_importer"]


def get_importer(name: str) -> Importer:
    for importer in IMPORTERS:
        if importer.name == name:
            return importer
    names = ", ".join(importer.name for importer in IMPORTERS)
    raise ConfigurationError(f"unknown format {name!r}; expected one of: {names}")


_GENERIC_HINTS: Final = {
    b"{": " (a JSONL file needs a 'post_id' field, or --format jsonl with --map)",
    b"[": " (a JSON array of posts needs a 'post_id' field, or --format json with --map)",
}


def detect_format(path: Path, head: bytes) -> Importer:
    """Choose the importer from the file's first bytes (never from its name alone)."""
    if not head.strip():
        raise EmptyInputError("the file is empty: no records to import", path=path)
    if head.startswith(b"PK\x03\x04"):
        raise FormatDetectionError(
            "is a ZIP archive; extract it and import the files inside "
            "(for an X/Twitter archive: data/tweets.js, with data/account.js beside it)",
            path=path,
        )
    if head[8:12] == b"DUCK":  # DuckDB's file header: a store passed where an export was expected
        raise FormatDetectionError(
            "is a DuckDB store, not an export to import; open it as the store instead "
            "(CLI: --db PATH; Python: equilibrio.load(db=PATH))",
            path=path,
        )
    for importer in IMPORTERS:
        if importer.sniff(path, head):
            return importer
    names = ", ".join(importer.name for importer in IMPORTERS)
    raise FormatDetectionError(
        f"cannot tell the format from the content; pass --format with one of: {names}"
        + _GENERIC_HINTS.get(head.lstrip()[:1], ""),
        path=path,
    )
