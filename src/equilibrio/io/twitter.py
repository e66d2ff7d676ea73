"""X/Twitter: rtweet-style CSV exports, API v2 JSON responses and an account archive's tweets.js."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from equilibrio.errors import ConfigurationError, InputError
from equilibrio.io._base import (
    Batch,
    BatchBuilder,
    ImportOptions,
    RecordError,
    Source,
    excerpt,
    parse_json_pages,
    required,
    snowflake_time,
    to_bool,
    to_count,
    twitter_classic_time,
    x_text,
)
from equilibrio.io._csv import header_of, pick, read_rows

# Column aliases seen in rtweet, twarc/snscrape-style and research exports.
ID = ("status_id", "tweet_id", "id")
CREATED = ("created_at_iso", "created_at", "date")
HANDLE = ("screen_name", "screen_Name", "username", "user_screen_name")
USER_ID = ("user_id", "author_id")
TEXT = ("full_text", "text", "content")
REPLY_TO = ("reply_to_status_id", "in_reply_to_status_id")
IS_RETWEET = ("is_retweet", "is_retweeted_tweet")
IS_QUOTE = ("is_quote", "is_quoted_tweet")
QUOTED_ID = ("quoted_status_id",)
QUOTED_HANDLE = ("quoted_screen_name",)
LIKES = ("favorite_count", "like_count")
SHARES = ("retweet_count",)
COMMENTS = ("reply_count",)
FOLLOWERS = ("followers", "followers_count")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _kind(text: str, is_retweet: bool | None, is_quote: bool | None, reply_to: str | None) -> str:
    if is_retweet or text.startswith("RT @"):  # "RT @" without the flag: an old-style manual retweet
        return "repost"
    if reply_to or text.startswith("@"):
        # Exports that lost reply ids still start replies with the addressee's handle.
        return "reply"
    if is_quote:
        return "quote"
    return "post"


DATED_BY_ID = "dates refined to the millisecond by the tweet ids (the file gives only the day)"
ID_NAMES_OTHER_DAY = "dates kept to the day: the tweet id carries another day"


def _when(created: str, native_id: str) -> tuple[str, str, str | None]:
    """created_at, its precision and the ingest note it earns: a bare day is refined by the id's own
    clock when it agrees on the day."""
    if not _ISO_DAY.match(created):
        return created, "second", None
    posted = snowflake_time(native_id)
    if posted is None:
        return created, "day", None
    if posted.date().isoformat() == created:
        return posted.isoformat(), "second", DATED_BY_ID
    return created, "day", ID_NAMES_OTHER_DAY


def map_csv_row(row: Mapping[str, str], line: int, note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """One rtweet-style CSV row -> staged post; ``note`` is told how a bare day was dated."""
    if "__error__" in row:
        raise RecordError(row["__error__"])
    native_id = pick(row, ID)
    if native_id is None:
        raise RecordError("missing required field 'status_id' (or tweet_id/id)")
    if row.get("split"):
        native_id = f"{row['split']}-{native_id}"  # research sets number rows per split
    handle = pick(row, HANDLE)
    if handle is None:
        raise RecordError("missing required field 'screen_name' (or username)")
    created = pick(row, CREATED)
    if created is None:
        raise RecordError("missing required field 'created_at'")
    text = x_text(pick(row, TEXT) or "")
    reply_to = pick(row, REPLY_TO)
    user_id = pick(row, USER_ID)
    origin = (row.get("procedencia") or "").strip().lower()
    meta = {key: row[key] for key in ("media_type", "source", "inferred_company") if row.get(key)}
    created_at, time_precision, dating = _when(created, native_id)
    post = {
        "post_id": native_id,
        "platform": "twitter",
        "account_id": user_id if user_id else f"@{handle.lower()}",
        "handle": handle,
        "followers": to_count(pick(row, FOLLOWERS), "followers"),
        "declared_brand": True if origin == "oficial" else None,
        "created_at": created_at,
        "time_precision": time_precision,
        "text": text,
        "lang": pick(row, ("lang",)),
        "kind": _kind(
            text,
            to_bool(pick(row, IS_RETWEET), "is_retweet"),
            to_bool(pick(row, IS_QUOTE), "is_quote"),
            reply_to or pick(row, ("reply_to_screen_name", "in_reply_to_screen_name")),
        ),
        "reply_to_id": reply_to,
        "quoted_id": pick(row, QUOTED_ID),
        "quoted_handle": pick(row, QUOTED_HANDLE),
        "url": f"https://twitter.com/{handle}/status/{native_id}" if native_id.isdigit() else None,
        "likes": to_count(pick(row, LIKES), "favorite_count"),
        "shares": to_count(pick(row, SHARES), "retweet_count"),
        "comments": to_count(pick(row, COMMENTS), "reply_count"),
        "meta": json.dumps(meta) if meta else None,
        "source_line": line,
    }
    if dating is not None and note is not None:
        note(dating)  # only once the row has mapped: a rejected row earns no note
    return post


class TwitterCsvImporter:
    name = "twitter-csv"
    description = "rtweet-style CSV of tweets (status_id/tweet_id, screen_name/username, text, counts)"

    def sniff(self, path: Path, head: bytes) -> bool:
        columns = set(header_of(head))
        return bool(columns & set(ID)) and bool(columns & set(HANDLE)) and bool(columns & set(TEXT))

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        builder = BatchBuilder()
        for line, row in read_rows(source):

            def produce(row: Mapping[str, str] = row, line: int = line) -> dict[str, Any]:
                mapped = map_csv_row(row, line, source.tally)
                mapped["text"] = source.fix_text(mapped["text"])
                return mapped

            builder.add(f"line {line}", produce, excerpt=excerpt(pick(row, TEXT) or ""))
            if builder.full():
                yield builder.flush()
        yield from builder.drain()


# -- API v2 --------------------------------------------------------------------------

_V2_KIND = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}


def map_v2_tweet(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One API v2 tweet object (with ``expansions=author_id``) -> staged post."""
    tweet_id = str(required(tweet, "id"))
    author_id = str(required(tweet, "author_id"))
    user = users.get(author_id, {})
    references = {ref.get("type"): str(ref.get("id")) for ref in tweet.get("referenced_tweets") or []}
    kind = "post"
    for ref_type in ("retweeted", "replied_to", "quoted"):
        if ref_type in references:
            kind = _V2_KIND[ref_type]
            break
    metrics = tweet.get("public_metrics") or {}
    organic = tweet.get("non_public_metrics") or tweet.get("organic_metrics") or {}
    handle = user.get("username")
    return {
        "post_id": tweet_id,
        "platform": "twitter",
        "account_id": author_id,
        "handle": handle,
        "display_name": user.get("name"),
        "followers": to_count((user.get("public_metrics") or {}).get("followers_count"), "followers_count"),
        "created_at": str(required(tweet, "created_at")),
        "text": x_text(str(tweet.get("text") or "")),
        "lang": tweet.get("lang"),
        "kind": kind,
        "reply_to_id": references.get("replied_to"),
        "conversation_id": tweet.get("conversation_id"),
        "quoted_id": references.get("quoted"),
        "url": f"https://twitter.com/{handle}/status/{tweet_id}" if handle else None,
        "paid": True if tweet.get("promoted_metrics") else None,
        "likes": to_count(metrics.get("like_count"), "like_count"),
        "shares": to_count(metrics.get("retweet_count"), "retweet_count"),
        "comments": to_count(metrics.get("reply_count"), "reply_count"),
        "impressions": to_count(metrics.get("impression_count", organic.get("impression_count")), "impression_count"),
        "clicks": to_count(organic.get("url_link_clicks"), "url_link_clicks"),
    }


class TwitterApiV2Importer:
    name = "twitter-api"
    description = "X/Twitter API v2 JSON: one response {data, includes}, a list of pages, or one page per line"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head.decode("utf-8", errors="replace")
        return '"data"' in text and '"author_id"' in text and ('"text"' in text)

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        builder = BatchBuilder()
        for page_number, page in enumerate(parse_json_pages(source), start=1):
            if not isinstance(page, dict) or "data" not in page:
                raise InputError(
                    "expected an API v2 response object with a 'data' list",
                    path=source.path,
                    where=f"page {page_number}",
                )
            includes = page.get("includes") or {}
            users = {str(user.get("id")): user for user in includes.get("users") or []}
            tweets = [("data", t) for t in page.get("data") or []] + [
                ("includes.tweets", t) for t in includes.get("tweets") or []
            ]
            for index, (where, tweet) in enumerate(tweets):
                location = f"page {page_number}, {where}[{index}]"
                if not isinstance(tweet, dict):
                    builder.reject(location, "expected a tweet object")
                    continue
                builder.add(location, map_v2_tweet, tweet, users, excerpt=excerpt(tweet.get("text", "")))
        yield from builder.drain()


# -- account archive -----------------------------------------------------------------

_ARCHIVE_PREFIX = re.compile(r"^\s*window\.YTD\.[A-Za-z_]+\.part\d+\s*=\s*")


def _archive_payload(text: str, path: Path) -> Any:
    match = _ARCHIVE_PREFIX.match(text)
    if not match:
        raise InputError("not an archive file: expected 'window.YTD.<name>.part0 = [...]'", path=path, where="line 1")
    body = text[match.end() :]
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, match.end() + exc.pos) + 1
        what = "truncated archive JSON" if exc.pos >= len(body.rstrip()) - 1 else f"invalid archive JSON: {exc.msg}"
        raise InputError(what, path=path, where=f"line {line}") from None


def map_archive_tweet(tweet: Mapping[str, Any], account_id: str, handle: str) -> dict[str, Any]:
    tweet_id = str(required(tweet, "id_str") if "id_str" in tweet else required(tweet, "id"))
    text = x_text(str(tweet.get("full_text") or tweet.get("text") or ""))
    reply_to = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    return {
        "post_id": tweet_id,
        "platform": "twitter",
        "account_id": account_id,
        "handle": handle,
        "declared_brand": True,
        "created_at": twitter_classic_time(str(required(tweet, "created_at"))),
        "text": text,
        "lang": tweet.get("lang"),
        "kind": "repost" if text.startswith("RT @") else "reply" if reply_to else "post",
        "reply_to_id": str(reply_to) if reply_to else None,
        "url": f"https://twitter.com/{handle}/status/{tweet_id}",
        "likes": to_count(tweet.get("favorite_count"), "favorite_count"),
        "shares": to_count(tweet.get("retweet_count"), "retweet_count"),
    }


class TwitterArchiveImporter:
    name = "twitter-archive"
    description = "tweets.js from an X/Twitter account archive (account.js beside it names the account)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip().startswith(b"window.YTD.tweet")

    def _owner(self, source: Source, options: ImportOptions) -> tuple[str, str]:
        account_file = source.path.with_name("account.js")
        if account_file.exists():
            payload = _archive_payload(account_file.read_text(encoding="utf-8"), account_file)
            account = payload[0]["account"]
            return str(account["accountId"]), str(account["username"])
        if len(options.brands) == 1:
            (handle,) = options.brands
            return f"@{handle}", handle
        raise ConfigurationError(
            f"{source.path}: tweets.js does not name its account; keep account.js beside it "
            "or pass exactly one --brand @handle"
        )

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        payload = _archive_payload(source.text(), source.path)
        if not isinstance(payload, list):
            raise InputError('expected a list of {"tweet": {...}} objects', path=source.path)
        account_id, handle = self._owner(source, options)
        builder = BatchBuilder()
        for index, item in enumerate(payload):
            tweet = item.get("tweet") if isinstance(item, dict) else None
            if not isinstance(tweet, dict):
                builder.reject(f"item {index}", "expected an object with a 'tweet' key", excerpt(item))
                continue
            builder.add(
                f"item {index} (tweet {tweet.get('id_str', '?')})",
                map_archive_tweet,
                tweet,
                account_id,
                handle,
                excerpt=excerpt(tweet.get("full_text", "")),
            )
        yield from builder.drain()
