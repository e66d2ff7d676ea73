"""Compare intent recipes by cross-validation on dev_gold (scratch tool for choosing the recipe).

Every figure is out-of-fold: a post is scored by models that never saw its gold label, and
pseudo-labels for the pool come from models trained on the training folds only.

    python training/intent_experiment.py [--recipes fast,accurate,...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from embed import CACHE, load_cache, text_key  # type: ignore[import-not-found]
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from equilibrio.nlp.features import accurate_features, fast_features
from equilibrio.nlp.intent_eval import read_gold

LABELS = ("promotion", "conversation", "value")
GOLD = Path(__file__).parents[2] / "shared/data/intent/dev_gold.jsonl"


def load_gold() -> list[dict[str, str]]:
    return read_gold(GOLD)


def gold_matrices() -> tuple[
    list[dict[str, str]], list[str], list[str], np.ndarray, np.ndarray, object, np.ndarray, list[str]
]:
    """Gold rows, texts, langs, labels, embeddings, both tiers' features and the CV strata."""
    gold = load_gold()
    texts = [r["text"] for r in gold]
    langs = [r["lang"] for r in gold]
    y = np.array([LABELS.index(r["label"]) for r in gold])
    cache = load_cache()
    emb = np.stack([cache[text_key(t)] for t in texts])
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    return gold, texts, langs, y, emb, fast_features(texts, langs), accurate_features(emb, texts, langs), strata


def report(name: str, gold: list[dict[str, str]], proba: np.ndarray) -> None:
    y = np.array([LABELS.index(r["label"]) for r in gold])
    pred = proba.argmax(1)
    langs = np.array([r["lang"] for r in gold])
    parts = []
    for lang in ("es", "en"):
        mask = langs == lang
        parts.append(f"{lang} {f1_score(y[mask], pred[mask], average='macro'):.3f}")
    parts.append(f"all {f1_score(y, pred, average='macro'):.3f}")
    print(f"{name:40s} " + "  ".join(parts), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--c-fast", type=float, default=10.0)
    parser.add_argument("--c-acc", type=float, default=3.0)
    args = parser.parse_args()
    gold, texts, _langs, y, _emb, fast_x, acc_x, strata = gold_matrices()
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata))
    out: dict[str, np.ndarray] = {k: np.zeros((len(gold), 3)) for k in ("fast", "acc")}
    started = time.perf_counter()
    for train, test in folds:
        fast = LogisticRegression(C=args.c_fast, max_iter=2000, class_weight="balanced").fit(fast_x[train], y[train])
        out["fast"][test] = fast.predict_proba(fast_x[test])
        acc = LogisticRegression(C=args.c_acc, max_iter=2000, class_weight="balanced").fit(acc_x[train], y[train])
        out["acc"][test] = acc.predict_proba(acc_x[test])
    report("fast (gold only)", gold, out["fast"])
    report("accurate (gold only)", gold, out["acc"])
    report("mean of both", gold, (out["fast"] + out["acc"]) / 2)
    print(f"{time.perf_counter() - started:.1f}s")
    _ = CACHE


if __name__ == "__main__":
    main()


def errors() -> None:
    from sklearn.metrics import confusion_matrix

    gold, texts, langs, y, _emb, fast_x, acc_x, strata = gold_matrices()
    proba = np.zeros((len(gold), 3))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata):
        for x, c in ((fast_x, 10), (acc_x, 3)):
            model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x[train], y[train])
            proba[test] += model.predict_proba(x[test]) / 2
    pred = proba.argmax(1)
    for lang in ("es", "en"):
        m = np.array(langs) == lang
        print(lang, "\n", confusion_matrix(y[m], pred[m]))
    for i in np.where((np.array(langs) == "en") & (pred != y))[0][:45]:
        print(f"{LABELS[y[i]][:5]}->{LABELS[pred[i]][:5]} {gold[i]['src'][:10]} {texts[i][:150]!r}")


def pool_with_embeddings(gold_texts: set[str]) -> tuple[list[str], list[str], np.ndarray]:
    import polars as pl

    cache = load_cache()
    pool = pl.read_parquet(CACHE / "pool.parquet")
    texts, langs, vectors = [], [], []
    for text, lang in pool.select("text", "corpus_lang").iter_rows():
        key = text_key(text)
        if key in cache and text not in gold_texts:
            texts.append(text)
            langs.append(lang)
            vectors.append(cache[key])
    return texts, langs, np.stack(vectors)


def self_training(threshold: float = 0.8, weight: float = 0.5, rounds: int = 1, per_class: int = 3000) -> None:
    gold, texts, _langs, y, _emb, fast_x, acc_x, strata = gold_matrices()
    pool_texts, pool_langs, pool_emb = pool_with_embeddings(set(texts))
    pool_fast = fast_features(pool_texts, pool_langs)
    pool_acc = accurate_features(pool_emb, pool_texts, pool_langs)
    print(f"pool {len(pool_texts)} posts", flush=True)
    import scipy.sparse as sp

    base = np.zeros((len(gold), 3))
    proba = np.zeros((len(gold), 3))
    fast_only = np.zeros((len(gold), 3))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata):
        fast = LogisticRegression(C=10, max_iter=2000, class_weight="balanced").fit(fast_x[train], y[train])
        acc = LogisticRegression(C=3, max_iter=2000, class_weight="balanced").fit(acc_x[train], y[train])
        base[test] = (fast.predict_proba(fast_x[test]) + acc.predict_proba(acc_x[test])) / 2
        for _ in range(rounds):
            pool_p = (fast.predict_proba(pool_fast) + acc.predict_proba(pool_acc)) / 2
            conf = pool_p.max(1)
            label = pool_p.argmax(1)
            chosen = []
            for k in range(3):
                idx = np.where((label == k) & (conf >= threshold))[0]
                idx = idx[np.argsort(-conf[idx])][:per_class]
                chosen.append(idx)
            sel = np.concatenate(chosen)
            sw = np.concatenate([np.ones(len(train)), np.full(len(sel), weight)])
            yy = np.concatenate([y[train], label[sel]])
            fast = LogisticRegression(C=10, max_iter=2000, class_weight="balanced").fit(
                sp.vstack([fast_x[train], pool_fast[sel]]), yy, sample_weight=sw
            )
            acc = LogisticRegression(C=3, max_iter=2000, class_weight="balanced").fit(
                np.vstack([acc_x[train], pool_acc[sel]]), yy, sample_weight=sw
            )
        print("pseudo per class", [len(c) for c in chosen], flush=True)
        fast_only[test] = fast.predict_proba(fast_x[test])
        proba[test] = (fast_only[test] + acc.predict_proba(acc_x[test])) / 2
    report("base mean", gold, base)
    report(f"self-trained fast t={threshold} w={weight}", gold, fast_only)
    report(f"self-trained mean t={threshold} w={weight}", gold, proba)


PROTOTYPES = {
    "promotion": [
        "Buy now with a discount, limited time offer, order today",
        "Compra ya con descuento, oferta por tiempo limitado",
        "Meet our new product, now available. Get yours",
        "Conoce nuestra nueva tarjeta, solicítala hoy",
        "We are proud to be named the best company, award winning",
        "Somos el mejor banco, reconocidos como líderes",
        "Enter our giveaway for a chance to win",
        "Participa y gana en nuestro sorteo",
        "Register for our webinar, join us live",
    ],
    "conversation": [
        "@user Hi, sorry for the trouble, please DM us your details",
        "@user Hola, lamentamos las molestias, envíanos un mensaje directo",
        "Tell us, what is your favourite? Reply below",
        "Cuéntanos, ¿qué prefieres tú?",
        "@user Thanks for the kind words, glad you enjoyed it",
        "@user Gracias por escribirnos, con gusto te ayudamos",
    ],
    "value": [
        "Scheduled maintenance tonight, service will be interrupted",
        "Mantenimiento programado, suspensión del servicio eléctrico",
        "Tips to protect your account from fraud",
        "Consejos para cuidar tus finanzas personales",
        "New report on the economy and inflation forecast",
        "Nuevo informe sobre la economía y previsiones",
        "Happy holidays to everyone! Merry Christmas",
        "Feliz Navidad y próspero año nuevo",
        "The story of our volunteers helping the community",
        "Great match today, what a goal!",
    ],
}


def prototype_sims(emb: np.ndarray) -> np.ndarray:
    from equilibrio.nlp.embeddings import embed

    cols = []
    for label in LABELS:
        proto = embed(PROTOTYPES[label])
        sims = emb @ proto.T
        cols += [sims.max(1), sims.mean(1)]
    return np.stack(cols, 1)


def variants() -> None:
    gold, texts, _langs, y, emb, fast_x, acc_x, strata = gold_matrices()
    proto = prototype_sims(emb) * 5
    acc_p = np.hstack([acc_x, proto])
    from sklearn.svm import SVC

    res = {k: np.zeros((len(gold), 3)) for k in ("fast_nw", "acc_nw", "acc_proto", "svc", "fast")}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata):
        res["fast"][test] = (
            LogisticRegression(C=10, max_iter=2000, class_weight="balanced")
            .fit(fast_x[train], y[train])
            .predict_proba(fast_x[test])
        )
        res["fast_nw"][test] = (
            LogisticRegression(C=10, max_iter=2000).fit(fast_x[train], y[train]).predict_proba(fast_x[test])
        )
        res["acc_nw"][test] = (
            LogisticRegression(C=3, max_iter=2000).fit(acc_x[train], y[train]).predict_proba(acc_x[test])
        )
        res["acc_proto"][test] = (
            LogisticRegression(C=3, max_iter=2000, class_weight="balanced")
            .fit(acc_p[train], y[train])
            .predict_proba(acc_p[test])
        )
        res["svc"][test] = (
            SVC(C=3, probability=True, class_weight="balanced", random_state=0)
            .fit(acc_x[train], y[train])
            .predict_proba(acc_x[test])
        )
    for k, v in res.items():
        report(k, gold, v)
    report("fast + acc_proto", gold, (res["fast"] + res["acc_proto"]) / 2)
    report("fast + svc", gold, (res["fast"] + res["svc"]) / 2)
    report("fast + svc + acc_proto", gold, (res["fast"] + res["svc"] + res["acc_proto"]) / 3)
    report("nw pair", gold, (res["fast_nw"] + res["acc_nw"]) / 2)
