"""Build the unlabelled pool of brand posts that training uses for weak labels and distillation.

The six ``../shared/data/brand_posts`` files are ingested with equilibrio's own importers (so the
training data goes through exactly the parsing users get), then the brand's own posts and replies
are exported to ``training/_cache/pool.parquet``. Retweets are left out: their words are not the
brand's.

    python training/corpus.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import equilibrio

CACHE = Path(__file__).parent / "_cache"

# Accounts whose posts are the brand's own. es_banks marks its official accounts itself, and the
# enterprise file (en_brand_accounts) holds nothing but the companies' own tweets.
BRANDS = (
    "@Tesla",
    "@yumbrands",
    "@Citibanamex",
    "@ContactoCitibmx",
    "@CORPOELECinfo",
    "@CorpoelecZulia_",
    "@corpoelecmerida",
)

POOL_SQL = """
SELECT p.post_id,
       regexp_extract(l.source, '([a-z]{2})_[^/]*\\.csv$', 1) AS corpus_lang,
       regexp_extract(l.source, '([^/]*)\\.csv$', 1) AS corpus,
       p.account_id, p.kind, p.text
FROM posts p JOIN ingest_log l ON l.ingest_id = p.first_ingest_id
WHERE (p.is_brand OR l.source LIKE '%en_brand_accounts%')
  AND p.kind IN ('post', 'reply', 'quote')
  AND p.text IS NOT NULL AND length(p.text) >= 12 AND NOT starts_with(p.text, 'RT @')
ORDER BY p.post_id
"""


def build_pool(shared: Path) -> Path:
    CACHE.mkdir(exist_ok=True)
    db = CACHE / "corpus.duckdb"
    db.unlink(missing_ok=True)
    workspace = equilibrio.load(db=db, brands=BRANDS)
    workspace.ingest(*sorted((shared / "data" / "brand_posts").glob("*.csv")))
    pool = pl.from_arrow(workspace.store.arrow(POOL_SQL))
    assert isinstance(pool, pl.DataFrame)
    out = CACHE / "pool.parquet"
    pool.write_parquet(out)
    print(f"pool: {pool.height} brand posts -> {out}")
    print(pool.group_by("corpus", "kind").len().sort("corpus", "kind"))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[1].parent / "shared")
    build_pool(parser.parse_args().shared)
