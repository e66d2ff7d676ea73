"""Balance analysis and report at scale: 1M posts (the conversation benchmark's synthetic store).

    python benchmarks/balance.py [--posts 1000000 --accounts 100000]

Reuses (or generates) the store of ``benchmarks/conversation.py``, copies it, adds synthetic intent
labels and attributes for brand messages (broadcasts: 35% promotion, 40% value, 25% conversation;
replies: conversation; each attribute on a fifth of messages) and synthetic conversions (one per
50 brand broadcasts, utm_source=twitter), then times ``balance_analysis`` and ``render_report`` in
one process and prints the table. Labelling itself is measured by ``benchmarks/intent.py``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "_data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    source = DATA_DIR / f"conversation_{args.posts}_{args.accounts}.duckdb"
    if not source.exists():
        here = Path(__file__).resolve().parent
        command = [sys.executable, str(here / "conversation.py"), "--posts", str(args.posts)]
        subprocess.run([*command, "--accounts", str(args.accounts), "--skip", "pandas", "sentiment"], check=True)
    db = DATA_DIR / f"balance_{args.posts}.duckdb"
    shutil.copy(source, db)

    from equilibrio.insights.balance import balance_analysis
    from equilibrio.metrics.attributes import ATTRIBUTE_GROUPS
    from equilibrio.report.balance_report import render_report
    from equilibrio.store.duck import Store

    # Each attribute on about a fifth of brand messages, independently, so the attribute model has work.
    attribute_columns = ", ".join(f"attr_{name}" for name in ATTRIBUTE_GROUPS)
    attribute_values = ", ".join(f"hash(post_id || '{name}') % 5 = 0" for name in ATTRIBUTE_GROUPS)
    with Store(db) as store:
        store.execute("DELETE FROM post_labels")
        store.execute(
            f"""
            INSERT INTO post_labels (post_id, model_version, labelled_at, lang, intent, p_promotion, p_conversation,
                                     p_value, tier, cues, {attribute_columns})
            SELECT post_id, 'synthetic', now(), coalesce(lang, 'en'), intent,
                   CASE intent WHEN 'promotion' THEN 0.8 ELSE 0.1 END,
                   CASE intent WHEN 'conversation' THEN 0.8 ELSE 0.1 END,
                   CASE intent WHEN 'value' THEN 0.8 ELSE 0.1 END, 'fast', [], {attribute_values}
            FROM (SELECT post_id, lang,
                         CASE WHEN kind = 'reply' THEN 'conversation'
                              WHEN hash(post_id) % 100 < 35 THEN 'promotion'
                              WHEN hash(post_id) % 100 < 75 THEN 'value' ELSE 'conversation' END AS intent
                  FROM posts WHERE is_brand)
            """
        )
        store.execute(
            """
            INSERT INTO conversions (conversion_id, occurred_at, value, currency, utm_source, utm_medium,
                                     last_ingest_id)
            SELECT 'c' || post_id, created_at + INTERVAL 3 HOUR, 20 + hash(post_id) % 80, 'EUR', 'twitter', 'social', 1
            FROM posts WHERE is_brand AND kind = 'post' AND hash(post_id) % 50 = 0
            """
        )
        labelled = store.fetchone("SELECT count(*) FROM post_labels")[0]
        start = time.perf_counter()
        analysis = balance_analysis(store)
        analysis_seconds = time.perf_counter() - start
        start = time.perf_counter()
        page = render_report(store, DATA_DIR / "balance_report.html")
        report_seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = analysis["attribute_model"]
    print(f"\n{args.posts:,} posts, {labelled:,} labelled brand messages, score {analysis['score']['value']}")
    print(f"attribute model: {model['status']} on {model['posts']:,} messages\n")
    print("| step | seconds |\n|---|---|")
    steps = "mix, engagement, attribution, curve, attribute model, conversation, score"
    print(f"| balance analysis ({steps}) | {analysis_seconds:.1f} |")
    size_mb = page.stat().st_size / 2**20
    print(f"| report (analysis again + network + charts, {size_mb:.1f} MB HTML) | {report_seconds:.1f} |")
    print(f"| peak RSS | {peak_mb:,.0f} MB |")


if __name__ == "__main__":
    main()
