"""The row checks' shortcuts agree with the plain SQL they stand for, on any string."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from equilibrio.store.ingest import _BLANK, _QUALIFY

_CON = duckdb.connect()
# Whitespace of every kind, ASCII and not, mixed with ordinary characters.
_TEXTS = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\xa0\u1680\u2000\u2003\u200b\u202f\u3000\ufeffa1é:"), max_size=6),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_blank_is_what_trim_empties(value: str | None) -> None:
    fast, plain = _CON.execute(
        f"SELECT {_BLANK.format(col='v')}, coalesce(trim(v), '') = '' FROM (SELECT ?::VARCHAR AS v)", [value]
    ).fetchone() or (None, None)
    assert fast == plain


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.sampled_from(["twitter", "mastodon", None]))
def test_qualify_prefixes_the_platform_once(value: str | None, platform: str | None) -> None:
    (qualified,) = _CON.execute(
        f"SELECT {_QUALIFY.format(col='v')} FROM (SELECT ?::VARCHAR AS v, ?::VARCHAR AS platform)", [value, platform]
    ).fetchone() or (None,)
    if value is None or platform is None:
        assert qualified is None  # such rows are rejected for the missing field
    else:
        assert qualified == (value if value.startswith(platform + ":") else f"{platform}:{value}")
