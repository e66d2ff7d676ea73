"""IBM Twitter customer-care conversations (IBM/twitter-customer-care-document-prediction).

Each conversation holds customer turns (``client``/``client1``) and agent turns (``agent``) in
order, plus ``agentURL``: the agent's closing turn, which has no timestamp of its own. Its tweet id
does: Twitter's ids carry the moment of posting (:func:`~equilibrio.io._base.snowflake_time`), and
every dated turn of the corpus agrees with its id to the second. Only a closing turn without such
an id is dated ``conversationDateTime + duration``, the header's span from the first to the last
message, which is less reliable: in dev.json and test.json it is negative for 38 conversations and
whole days short for 148 (it drops the days of conversations longer than one).
Reply links are not in the data; a turn answers the latest earlier turn of the other side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from equilibrio.errors import InputError
from equilibrio.io._base import (
    Batch,
    BatchBuilder,
    ImportOptions,
    RecordError,
    Source,
    excerpt,
    parse_json_document,
    required,
    snowflake_time,
    x_text,
)

# "01:26:55.0", and "6-01:08:11" (days-hours:...) for long conversations.
_DURATION = re.compile(r"^(-)?(?:(\d+)-)?(\d+):(\d{2}):(\d{2})(?:\.\d*)?$")


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise RecordError(f"closing agent turn cannot be dated: unparseable header duration {value!r}")
    if match.group(1):
        raise RecordError(f"closing agent turn cannot be dated: header duration {value!r} is negative")
    days, hours, minutes, seconds = (int(match.group(i) or 0) for i in (2, 3, 4, 5))
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _turn_row(turn: Mapping[str, Any], company: str, session: str, previous_other: str | None) -> dict[str, Any]:
    is_agent = "agent" in turn
    speaker = turn.get("agent") if is_agent else turn.get("client") or turn.get("client1")
    if not speaker:
        raise RecordError("turn names neither 'client' nor 'agent'")
    handle = str(speaker)
    return {
        "post_id": str(required(turn, "tweet_ID")),
        "platform": "twitter",
        "account_id": f"@{handle.lower()}",
        "handle": handle,
        "declared_brand": is_agent and handle.lower() == company.lower(),
        "created_at": str(required(turn, "datetime")),
        "text": x_text(str(turn.get("message") or "")),
        "kind": "reply" if previous_other or str(turn.get("message", "")).startswith("@") else "post",
        "reply_to_id": previous_other,
        "conversation_id": f"ibm-{session}",
    }


def closing_time(closing: Mapping[str, Any], header: Mapping[str, Any]) -> tuple[datetime, bool]:
    """When the agentURL turn was posted, and whether its tweet id said so (else the header did)."""
    posted = snowflake_time(str(closing.get("tweet_ID") or ""))
    if posted is not None:
        return posted, True
    started = datetime.fromisoformat(str(required(header, "conversationDateTime")).replace("Z", "+00:00"))
    return started + parse_duration(str(required(header, "duration"))), False


class IbmCustomerCareImporter:
    name = "ibm-care"
    description = "IBM customer-care conversations JSON (dialogHeader / dialogContent / agentURL)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"dialogContent"' in head or b'"dialogHeader"' in head or b'"agentURL"' in head

    @staticmethod
    def _closing_row(
        source: Source,
        closing: Mapping[str, Any],
        header: Mapping[str, Any],
        company: str,
        session: str,
        previous: str | None,
    ) -> dict[str, Any]:
        """The closing turn's row; those the header had to date are counted in the ingest's notes."""
        posted, by_id = closing_time(closing, header)
        turn = {
            "agent": company,
            "tweet_ID": closing.get("tweet_ID"),
            "message": closing.get("url_utterance"),
            "datetime": posted.isoformat(),
        }
        row = _turn_row(turn, company, session, previous)
        if not by_id:
            source.tally("closing agent turns without a dated tweet id, dated by the header's duration")
        return row

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        document = parse_json_document(source)
        if not isinstance(document, list):
            raise InputError("expected a JSON list of conversations", path=source.path)
        builder = BatchBuilder()
        for number, conversation in enumerate(document):
            header = conversation.get("dialogHeader", {}) if isinstance(conversation, dict) else {}
            company = str(header.get("company") or "")
            session = str(header.get("sessionID") or number)
            turns = list(conversation.get("dialogContent") or []) if isinstance(conversation, dict) else []
            last_by_side: dict[bool, str] = {}
            for index, turn in enumerate(turns):
                location = f"conversation {number} ({session}), turn {index + 1}"
                if not isinstance(turn, dict):
                    builder.reject(location, "expected a turn object")
                    continue
                is_agent = "agent" in turn
                builder.add(
                    location,
                    _turn_row,
                    turn,
                    company,
                    session,
                    last_by_side.get(not is_agent),
                    excerpt=excerpt(turn.get("message", "")),
                )
                if turn.get("tweet_ID"):
                    last_by_side[is_agent] = str(turn["tweet_ID"])
            closing = conversation.get("agentURL") if isinstance(conversation, dict) else None
            if isinstance(closing, dict):
                builder.add(
                    f"conversation {number} ({session}), closing agent turn",
                    self._closing_row,
                    source,
                    closing,
                    header,
                    company,
                    session,
                    last_by_side.get(False),
                    excerpt=excerpt(closing.get("url_utterance", "")),
                )
            if builder.full():
                yield builder.flush()
        yield from builder.drain()
