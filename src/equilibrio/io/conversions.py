"""Web conversions with UTM parameters: a GA4 export (or any CSV with the usual column names)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from equilibrio.io._base import Batch, BatchBuilder, ImportOptions, RecordError, Source
from equilibrio.io._csv import header_of, pick, read_rows
from equilibrio.schema import STAGED_CONVERSION_SCHEMA

ID = ("transaction_id", "conversion_id", "order_id", "ecommerce.transaction_id")
TIME = ("event_timestamp", "event_time", "occurred_at", "timestamp", "date", "event_date")
VALUE = ("purchase_revenue", "value", "revenue", "event_value", "ecommerce.purchase_revenue")
CURRENCY = ("currency", "currency_code")
SOURCE = ("utm_source", "session_source", "source", "session_manual_source")
MEDIUM = ("utm_medium", "session_medium", "medium", "session_manual_medium")
CAMPAIGN = ("utm_campaign", "session_campaign", "campaign", "session_manual_campaign_name")
CONTENT = ("utm_content", "session_manual_ad_content", "manual_ad_content", "ad_content")
LANDING = ("landing_page", "landing_url", "page_location", "landing_page_url")
_SIGNATURE = set(SOURCE + MEDIUM + CAMPAIGN + CONTENT)


def _time(value: str) -> str:
    if value.isdigit():  # GA4 BigQuery event_timestamp: microseconds since the epoch
        from datetime import UTC, datetime

        number = int(value)
        seconds = number / 1_000_000 if number > 1e14 else number / 1000 if number > 1e11 else number
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def map_conversion_row(row: Mapping[str, str], line: int) -> dict[str, Any]:
    if "__error__" in row:
        raise RecordError(row["__error__"])
    occurred = pick(row, TIME)
    if occurred is None:
        raise RecordError("missing required field 'event_timestamp' (or date/occurred_at)")
    landing = pick(row, LANDING)
    utm = {k: v[0] for k, v in parse_qs(urlparse(landing).query).items()} if landing else {}
    value_text = pick(row, VALUE)
    try:
        value = float(value_text.replace(",", "")) if value_text else None
    except ValueError:
        raise RecordError(f"field 'value': expected a number, got {value_text!r}") from None
    conversion_id = pick(row, ID) or hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:24]
    return {
        "conversion_id": conversion_id,
        "occurred_at": _time(occurred),
        "value": value,
        "currency": pick(row, CURRENCY),
        "utm_source": pick(row, SOURCE) or utm.get("utm_source"),
        "utm_medium": pick(row, MEDIUM) or utm.get("utm_medium"),
        "utm_campaign": pick(row, CAMPAIGN) or utm.get("utm_campaign"),
        "utm_content": pick(row, CONTENT) or utm.get("utm_content"),
        "landing_url": landing,
        "post_id": None,
        "source_line": line,
    }


class ConversionsCsvImporter:
    name = "conversions"
    description = "GA4/UTM conversions CSV (transaction id, time, revenue, utm_* or session_* columns)"

    def sniff(self, path: Path, head: bytes) -> bool:
        columns = set(header_of(head))
        return len(columns & _SIGNATURE) >= 2 and bool(columns & set(TIME))

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        builder = BatchBuilder(STAGED_CONVERSION_SCHEMA)
        for line, row in read_rows(source):
            builder.add(f"line {line}", map_conversion_row, row, line)
            if builder.full():
                yield builder.flush()
        yield from builder.drain()
