"""Intent benchmark: throughput, single-draft latency and peak memory per tier, beside two baselines.

Each method runs in its own child process (so peak memory is its own) on the same posts: real
brand texts from ../shared/data/intent/dev_gold.jsonl, repeated up to ``--posts``. Baselines a user
might otherwise pick: keyword rules (the cue lexicon voting, no learning) and zero-shot similarity
to label descriptions with the same e5 embeddings. macro-F1 is on dev_gold; for the trained tiers
that is training data (marked), for the baselines it is unseen.

    python benchmarks/intent.py [--posts 200000] [--embedded-posts 600]

"fast, 2 processes" splits the batch between two spawned worker processes; its time includes
starting them and loading the model there (a cold start), as a one-off batch job would pay.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _runner import peak_rss_mb, run_child

GOLD = Path(__file__).resolve().parents[2] / "shared/data/intent/dev_gold.jsonl"
LABELS = ("promotion", "conversation", "value")
DESCRIPTIONS = {
    "promotion": "The company sells: offers, discounts, prices, contests, calls to buy or sign up, self-praise.",
    "conversation": "The company replies to a person or asks its audience a question to start a dialogue.",
    "value": "The company shares useful information, service notices, tips, news, stories or greetings.",
}


def _gold() -> tuple[list[str], list[str], list[str]]:
    from equilibrio.nlp.intent_eval import read_gold

    rows = read_gold(GOLD)
    return [r["text"] for r in rows], [r["lang"] for r in rows], [r["label"] for r in rows]


def _keyword_rules(texts: list[str]) -> list[str]:
    from equilibrio.nlp.cues import find_cues

    labels = []
    for text in texts:
        votes = {label: 0 for label in LABELS}
        for match in find_cues(text):
            if match.intent:
                votes[match.intent] += 1
        # the guideline's order: any commercial push wins, then a reply or question, else value
        labels.append("promotion" if votes["promotion"] else "conversation" if votes["conversation"] else "value")
    return labels


def _run_one(method: str, posts: int, embedded_posts: int) -> dict[str, object]:
    import numpy as np
    from sklearn.metrics import f1_score

    from equilibrio.nlp.intent import IntentModel

    texts, langs, truth = _gold()
    model = IntentModel.load()
    n = embedded_posts if method in ("accurate", "zero-shot", "routed") else posts
    workers = 2 if method == "fast, 2 processes" else 1
    batch_texts = (texts * (n // len(texts) + 1))[:n]
    batch_langs = (langs * (n // len(langs) + 1))[:n]

    def predict(sample: list[str], sample_langs: list[str]) -> list[str]:
        if method == "keyword rules":
            return _keyword_rules(sample)
        if method == "zero-shot":
            from equilibrio.nlp.embeddings import embed

            prototypes = embed([DESCRIPTIONS[label] for label in LABELS])
            return [LABELS[i] for i in (embed(sample) @ prototypes.T).argmax(1)]
        mode = "fast" if method.startswith("fast") else method
        proba, _ = model.predict_proba(sample, sample_langs, mode, workers=workers)  # type: ignore[arg-type]
        return [LABELS[i] for i in proba.argmax(1)]

    predict(texts[:20], langs[:20])  # warm up: load models, compile regexes
    started = time.perf_counter()
    predict(batch_texts, batch_langs)
    seconds = time.perf_counter() - started
    latencies = []
    for text, lang in zip(texts[:100], langs[:100], strict=True):
        t0 = time.perf_counter()
        predict([text], [lang])
        latencies.append((time.perf_counter() - t0) * 1000)
    predicted = predict(texts, langs)
    f1 = {
        lang: round(
            float(
                f1_score(
                    [t for t, g in zip(truth, langs, strict=True) if g == lang],
                    [p for p, g in zip(predicted, langs, strict=True) if g == lang],
                    average="macro",
                )
            ),
            3,
        )
        for lang in ("es", "en")
    }
    return {
        "method": method,
        "posts": n,
        "posts_per_s": round(n / seconds),
        "draft_ms_median": round(float(np.median(latencies)), 2),
        "draft_ms_p95": round(float(np.percentile(latencies, 95)), 2),
        "peak_mb": round(peak_rss_mb()),
        "macro_f1_dev_gold": f1,
        "dev_gold_is_training_data": method in ("fast", "fast, 2 processes", "accurate", "routed"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--embedded-posts", type=int, default=600)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_run_one(args.one, args.posts, args.embedded_posts)))
        return
    rows = []
    for method in ("fast", "fast, 2 processes", "routed", "accurate", "keyword rules", "zero-shot"):
        rows.append(
            run_child(
                __file__, "--one", method, "--posts", str(args.posts), "--embedded-posts", str(args.embedded_posts)
            )
        )
        print(f"done: {method}", file=sys.stderr, flush=True)
    print("| method | posts | posts/s | one draft, median ms | p95 ms | peak MB | macro-F1 es / en on dev_gold |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        f1 = r["macro_f1_dev_gold"]
        note = " (training data)" if r["dev_gold_is_training_data"] else " (unseen)"
        print(
            f"| {r['method']} | {r['posts']:,} | {r['posts_per_s']:,} | {r['draft_ms_median']} | {r['draft_ms_p95']} "
            f"| {r['peak_mb']} | {f1['es']} / {f1['en']}{note} |"
        )


if __name__ == "__main__":
    main()
