"""The canonical data model: one definition used by importers, the store and the docs.

Importers produce *staged* rows (the columns of :data:`STAGED_POST_FIELDS`); the store
validates them in one place and merges them into the canonical tables. See
``docs/data-model.md`` for the prose version of this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pyarrow as pa

KINDS: Final = ("post", "reply", "repost", "quote", "comment", "mention", "dm")
"""Allowed values of ``posts.kind``."""

PLATFORMS: Final = ("twitter", "mastodon", "bluesky", "facebook", "instagram", "other")

TIME_PRECISIONS: Final = ("second", "day", "month")  # finest first: the store re-dates by this order
"""How precise ``created_at`` is: some exports keep only the day or the month."""

COUNT_COLUMNS: Final = ("likes", "shares", "comments", "impressions", "reach", "clicks")
"""Engagement counts: NULL when the source does not say, never 0 for unknown."""

EARLIEST_PLAUSIBLE: Final = "2004-01-01"
"""Timestamps before this (before any of the supported platforms existed) are rejected."""


@dataclass(frozen=True)
class Field:
    name: str
    arrow_type: pa.DataType
    description: str
    required: bool = False


STAGED_POST_FIELDS: Final[tuple[Field, ...]] = (
    Field("post_id", pa.string(), "platform-qualified unique id, e.g. `twitter:1134479110716006400`", True),
    Field("platform", pa.string(), f"one of {', '.join(PLATFORMS)}", True),
    Field("account_id", pa.string(), "platform-qualified author id, e.g. `twitter:92367652` or `twitter:@tesla`", True),
    Field("handle", pa.string(), "author's handle without `@`"),
    Field("display_name", pa.string(), "author's display name"),
    Field("followers", pa.int64(), "author's follower count at export time"),
    Field("declared_brand", pa.bool_(), "the source itself says the author is the brand (e.g. a page's own posts)"),
    Field("created_at", pa.string(), "ISO-8601 timestamp; stored as UTC", True),
    Field("time_precision", pa.string(), "second, day or month"),
    Field("text", pa.string(), "message text (NULL when the export has none)"),
    Field("lang", pa.string(), "language code given by the source (re-detected at analysis time)"),
    Field("kind", pa.string(), f"one of {', '.join(KINDS)}", True),
    Field("reply_to_id", pa.string(), "post_id this message answers"),
    Field("conversation_id", pa.string(), "thread id given by the source"),
    Field("quoted_id", pa.string(), "post_id this message quotes (quote posts)"),
    Field(
        "quoted_handle", pa.string(), "handle of the account this message quotes, without `@`, when the source names it"
    ),
    Field("url", pa.string(), "permalink"),
    Field("paid", pa.bool_(), "promoted / paid post"),
    Field("likes", pa.int64(), "likes, favourites, reactions"),
    Field("shares", pa.int64(), "retweets, reposts, boosts, shares"),
    Field("comments", pa.int64(), "replies or comments received"),
    Field("impressions", pa.int64(), "times shown"),
    Field("reach", pa.int64(), "unique people reached"),
    Field("clicks", pa.int64(), "link clicks"),
    Field("meta", pa.string(), "JSON object with source-specific fields (e.g. Facebook `category`)"),
    Field("source_line", pa.int64(), "line of the input file the row came from"),
    Field("source_record", pa.string(), "record reference when lines do not apply"),
)

STAGED_POST_SCHEMA: Final = pa.schema([pa.field(f.name, f.arrow_type) for f in STAGED_POST_FIELDS])

STAGED_CONVERSION_FIELDS: Final[tuple[Field, ...]] = (
    Field("conversion_id", pa.string(), "unique id (transaction id, or a hash of the row)", True),
    Field("occurred_at", pa.string(), "ISO-8601 time of the conversion; stored as UTC", True),
    Field("value", pa.float64(), "revenue of the conversion"),
    Field("currency", pa.string(), "ISO-4217 code"),
    Field("utm_source", pa.string(), "utm_source"),
    Field("utm_medium", pa.string(), "utm_medium"),
    Field("utm_campaign", pa.string(), "utm_campaign"),
    Field("utm_content", pa.string(), "utm_content (often a post id)"),
    Field("landing_url", pa.string(), "landing page URL"),
    Field("post_id", pa.string(), "post the conversion is attributed to (filled by attribution)"),
    Field("source_line", pa.int64(), "line of the input file"),
    Field("source_record", pa.string(), "record reference when lines do not apply"),
)

STAGED_CONVERSION_SCHEMA: Final = pa.schema([pa.field(f.name, f.arrow_type) for f in STAGED_CONVERSION_FIELDS])
