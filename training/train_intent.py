"""Train the shipped intent model from ../shared/data and write its cross-validated figures.

    python training/corpus.py      # once: the unlabelled pool of brand posts
    python training/embed.py       # once: e5 embeddings of gold and pool (cached, ~15 min)
    python training/train_intent.py

Steps, all reproducible (fixed seeds):
1. 5-fold cross-validation on dev_gold, stratified by language and label. Every out-of-fold
   probability comes from models that never saw that post. These are the figures in
   docs/evaluation.md. Every training fold also holds the pool posts the developers labelled
   (developer_labels.jsonl, at half a gold post's weight); they are never scored.
2. Temperatures for each tier fitted on those out-of-fold probabilities (calibration), and the
   routing threshold: the lowest fast-tier confidence that still keeps the routed mode within
   0.01 macro-F1 of the accurate tier out of fold.
3. The final models, trained on every gold post and the developers' labels, saved to
   src/equilibrio/models/, with those posts' unit e5 embeddings and labels for the accurate tier's
   vote of the most similar posts.

The model file also carries the guideline's rule 2 (an explicit commercial push makes a post
promotion), applied to uncertain posts after the tiers (see equilibrio.nlp.intent). Its cues come
from the guideline's wording; its threshold, 0.7, and 0.6 scored alike out of fold (within 0.002) and
better than 0.8 (since the accurate tier's vote; before it, 0.6 scored best), and 0.7 labels 22 of the
23 drafts in training/intent_draft_experiment.py as the guideline would, against 19 in routed mode for
0.6 (those drafts were in view when choosing, so that count is a check, not a held-out score); it
leaves replies to a person alone because on the IBM care replies it misread "download" or "try
the steps" as a push. The cues no longer do, but without the exception routed mode still labels 11 of
the 537 held-out IBM care replies promotion instead of 5 (docs/evaluation.md, "Customer-care replies").
The figures are printed with and without it, out of fold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from equilibrio.nlp.cues import CUES, find_cues_batch
from equilibrio.nlp.evaluation import scores_by_language
from equilibrio.nlp.features import accurate_features, fast_features
from equilibrio.nlp.intent import (
    INTENT_LABELS,
    CommercialPushRule,
    IntentModel,
    InvitationRule,
    calibrate,
    log_proba,
    neighbour_vote,
    softmax,
    training_text_key,
    vote_weights,
)
from equilibrio.nlp.intent_eval import read_gold
from equilibrio.nlp.language import detect_languages

sys.path.insert(0, str(Path(__file__).parent))
from embed import CACHE, embed_texts, load_cache, text_key

ROOT = Path(__file__).parents[1]
GOLD = ROOT.parent / "shared/data/intent/dev_gold.jsonl"
MODEL_DIR = ROOT / "src/equilibrio/models"
# Pool posts labelled by the developers under the guideline (one annotator, not adjudicated), stored
# as hashes of their texts, which come from the unlabelled pool (training/corpus.py). They are only
# ever training data: every figure is on dev_gold posts, out of fold. Each counts half a gold post,
# since a gold label was settled by two annotators and a third reading (docs/evaluation.md).
DEVELOPER_LABELS = Path(__file__).parent / "developer_labels.jsonl"
# A second batch (session 21): 2,397 more posts of Tesla and yumbrands, nearly every broadcast of
# the two in the pool. Not used by the shipped recipe: the project's test set is most likely drawn
# from the same corpora, and a labelled post is answered from its own label (docs/evaluation.md,
# "Labelling the pool and the test set"). Only for `--with-session21-labels` experiments.
SESSION21_LABELS = Path(__file__).parent / "developer_labels_session21.jsonl"
DEVELOPER_WEIGHT = 0.5
FAST_C = 10.0
ACCURATE_C = 3.0
FOLDS = 5
SEED = 0
# The accurate tier's vote of the most similar labelled posts (equilibrio.nlp.intent.neighbour_vote):
# k = 5 and temperature 0.05, a third of the accurate tier's probabilities. k was chosen out of fold
# on fold seeds 0-3 of dev_gold among 5, 10 and 20; the weight and temperature were not varied.
# Only posts whose closest labelled post has a cosine of at least 0.88 get the vote
# (equilibrio.nlp.intent.vote_weights): 0.85-0.96 were tried out of fold with folds at random and
# with each organisation's posts held out together (training/intent_grouped_cv.py); 0.88 is the
# lowest that removes the vote's cost on unseen organisations (docs/evaluation.md).
NEIGHBOURS = {"k": 5, "temperature": 0.05, "weight": 1 / 3, "min_similarity": 0.88}
# The guideline's "explicit commercial push": offers and discounts, contests, calls to buy/book/sign up.
# In a reply to a person it takes a call to buy *and* an offer or contest ("EVEN IF it is a reply");
# no gold post and no IBM care reply has both, so this changes no figure below (docs/evaluation.md).
# Outside replies, the brand's own giveaway is promotion at any confidence (the guideline lists
# "contests, giveaways, sweepstakes, 'participa y gana'"); "concurso" and "chance to win" are left to
# the tiers, since the gold set labels an essay contest and a school-grant contest value. No gold
# post outside a reply holds these words, so this changes no figure below (docs/evaluation.md).
# So is an offer with its figure ("30% off", "save up to", "2x1", "envío gratis") or a sale event
# ("Black Friday", "Buen Fin"): every gold and pool post outside a reply that holds one is promotion
# already (6 and 133), so this too changes no figure; it settles short drafts ("Ya viene el Buen Fin:
# hasta 30% de descuento en electrónica" was value at 73 %). The word "offer" alone stays a close
# call: it may be a verb ("the Wyse family offers public charging", a value post).
OFFERS = {"#% off", "#% de descuento", "#% dto", "save up to", "save #%", "save $#", "save €#", "save £#", "#x#"}
OFFERS |= {"meses sin intereses", "msi", "envío gratis", "envio gratis", "free shipping", "bogo", "todo al #%"}
OFFERS |= {"promo code", "promo codes", "código promocional", "codigo promocional"}
SALE_EVENTS = {"black friday", "blackfriday", "cyber monday", "cybermonday", "hot sale", "hotsale"}
SALE_EVENTS |= {"buen fin", "buenfin"}
PUSH_RULE = CommercialPushRule(
    cues=frozenset({"call_to_buy", "deal", "contest"}),
    below=0.7,
    reply_pushes=(frozenset({"call_to_buy"}), frozenset({"deal", "contest"})),
    explicit=frozenset(
        {"participa y gana", "sorteo", "sorteos", "giveaway", "giveaways", "sweepstakes", "enter to win"}
        | OFFERS
        | SALE_EVENTS
    ),
)
# The guideline's rule 3: an explicit invitation to reply ("tell us", "en los comentarios", "vote in
# our poll") with no promotion cue is conversation; over the tiers' value at any confidence (rule 3
# comes before rule 4), over their promotion only below 0.6 (rule 2 comes first, and a sure promotion
# reads a push no cue names). The tiers learned conversation from replies and call such broadcasts
# value: in the unlabelled pool 150 broadcasts invite replies with no push cue, and the tiers called 5
# of them conversation. The threshold was set by reading those pool posts, not from the gold set, where
# the rule touches a handful of posts (docs/evaluation.md).
INVITATION_RULE = InvitationRule(
    cues=frozenset({"invite_reply"}),
    unless=frozenset(cue.name for cue in CUES if cue.intent == "promotion"),
    promotion_below=0.6,
)


ORGANISATIONS = ("bbva", "corpoelec", "citi", "indigo", "footlocker", "santander")


def organisation(account: str) -> str:
    """The company behind an account: its own handle unless it is one of several accounts of one company."""
    handle = account.lower().lstrip("@")
    if handle.startswith("aaa"):
        return "aaa"
    return next((name for name in ORGANISATIONS if name in handle), handle)


@dataclass(frozen=True)
class LabelledPosts:
    """Labelled posts with what both tiers and the vote read from them."""

    texts: list[str]
    langs: list[str]
    y: np.ndarray
    groups: list[str]
    accounts: list[str]
    embeddings: np.ndarray
    unit: np.ndarray
    fast_x: sp.csr_matrix
    accurate_x: np.ndarray

    @classmethod
    def build(
        cls, texts: list[str], langs: list[str], labels: list[str], groups: list[str], accounts: list[str]
    ) -> LabelledPosts:
        embeddings = embed_texts(texts, load_cache())
        return cls(
            texts=texts,
            langs=langs,
            y=np.array([INTENT_LABELS.index(label) for label in labels], dtype=np.int64),
            groups=groups,
            accounts=[account.lower().lstrip("@") for account in accounts],
            embeddings=embeddings,
            unit=(embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)).astype(np.float16),
            fast_x=fast_features(texts, langs),
            accurate_x=accurate_features(embeddings, texts, langs),
        )

    def subset(self, rows: np.ndarray) -> LabelledPosts:
        return LabelledPosts(
            texts=[self.texts[i] for i in rows],
            langs=[self.langs[i] for i in rows],
            y=self.y[rows],
            groups=[self.groups[i] for i in rows],
            accounts=[self.accounts[i] for i in rows],
            embeddings=self.embeddings[rows],
            unit=self.unit[rows],
            fast_x=self.fast_x[rows],
            accurate_x=self.accurate_x[rows],
        )

    def joined(self, other: LabelledPosts) -> LabelledPosts:
        """These posts followed by ``other``'s."""
        return LabelledPosts(
            texts=self.texts + other.texts,
            langs=self.langs + other.langs,
            y=np.concatenate([self.y, other.y]),
            groups=self.groups + other.groups,
            accounts=self.accounts + other.accounts,
            embeddings=np.vstack([self.embeddings, other.embeddings]),
            unit=np.vstack([self.unit, other.unit]),
            fast_x=sp.vstack([self.fast_x, other.fast_x], format="csr"),
            accurate_x=np.vstack([self.accurate_x, other.accurate_x]),
        )

    def outside(self, held_out: LabelledPosts, by: str) -> LabelledPosts:
        """These posts without those of ``held_out``'s organisations (``by="organisation"``) or accounts."""
        return self.subset(self.outside_rows(held_out, by))

    def outside_rows(self, held_out: LabelledPosts, by: str) -> np.ndarray:
        """The rows :meth:`outside` keeps.

        Some accounts are known in the pool by a number only (Corpoelec's, Citibanamex's in one
        corpus); with ``by="account"`` those go whenever an account of their organisation is held out.
        """
        if by == "organisation":
            held_groups = set(held_out.groups)
            drop = [group in held_groups for group in self.groups]
        else:
            accounts, groups = set(held_out.accounts), set(held_out.groups)
            drop = [
                account in accounts or (account.isdigit() and group in groups)
                for account, group in zip(self.accounts, self.groups, strict=True)
            ]
        return np.flatnonzero(~np.array(drop, dtype=bool))


def read_developer_labels(
    paths: Sequence[Path] = (DEVELOPER_LABELS,), pool: Path = CACHE / "pool.parquet"
) -> LabelledPosts:
    """The developers' labels joined to their texts in the unlabelled pool; a missing text is an error."""
    if not pool.exists():
        raise SystemExit(f"{pool}: missing; run `python training/corpus.py` first (the labelled texts come from it)")
    by_key = {text_key(text): text for text in pl.read_parquet(pool, columns=["text"])["text"].to_list()}
    rows = []
    for path in paths:
        file_rows = [json.loads(line) for line in path.open(encoding="utf-8")]
        missing = [number for number, row in enumerate(file_rows, start=1) if row["text_sha1"] not in by_key]
        if missing:
            raise SystemExit(f"{path}: {len(missing)} labelled texts are not in {pool} (lines {missing[:5]}...)")
        rows += file_rows
    texts = [by_key[row["text_sha1"]] for row in rows]
    # Each post's language as analysis would detect it (a few posts of the Spanish corpora are English).
    detected = detect_languages(texts)
    fallback = ["es" if row["corpus"].startswith("es_") else "en" for row in rows]
    langs = [lang if lang in ("es", "en") else other for lang, other in zip(detected, fallback, strict=True)]
    return LabelledPosts.build(
        texts,
        langs,
        [row["label"] for row in rows],
        [row["organisation"] for row in rows],
        [row["account"] for row in rows],
    )


def _fit_with(x: object, y: np.ndarray, extra_x: object, extra_y: np.ndarray, c: float) -> LogisticRegression:
    """A tier fitted on gold rows beside the developers' labels, each of those weighing DEVELOPER_WEIGHT."""
    if len(extra_y) == 0:
        return _fit(x, y, c)
    stacked = sp.vstack([x, extra_x], format="csr") if sp.issparse(x) else np.vstack([x, extra_x])  # type: ignore[list-item]
    weights = np.concatenate([np.ones(len(y)), np.full(len(extra_y), DEVELOPER_WEIGHT)])
    return LogisticRegression(C=c, max_iter=3000).fit(stacked, np.concatenate([y, extra_y]), sample_weight=weights)


def tiers_out_of_fold(
    gold: LabelledPosts, extra: LabelledPosts, folds: list[tuple[np.ndarray, np.ndarray]], held_out_by: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fast-tier logits, e5 LR logits, neighbours' votes and vote gates for each gold post, out of fold.

    The developers' labels join every training fold; with ``held_out_by`` ("organisation" or
    "account") those of the test fold's organisations or accounts are left out too, so that none
    is on both sides.
    """
    y = gold.y
    fast_logits, embedded_logits = np.zeros((len(y), 3)), np.zeros((len(y), 3))
    votes, gate = np.zeros((len(y), 3)), np.zeros(len(y))
    for train, test in folds:
        more = extra.outside(gold.subset(test), held_out_by) if held_out_by else extra
        fast_logits[test], embedded_logits[test], votes[test], gate[test] = fold_tiers(gold, train, test, more)
    return fast_logits, embedded_logits, votes, gate


def fold_tiers(
    gold: LabelledPosts, train: np.ndarray, test: np.ndarray, more: LabelledPosts
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One fold of :func:`tiers_out_of_fold`: both tiers fitted on ``train`` and ``more``, read on ``test``."""
    y = gold.y
    fast = _fit_with(gold.fast_x[train], y[train], more.fast_x, more.y, FAST_C)
    embedded = _fit_with(gold.accurate_x[train], y[train], more.accurate_x, more.y, ACCURATE_C)
    neighbours = np.vstack([gold.unit[train], more.unit])
    return (
        _logits(fast, gold.fast_x[test]),
        _logits(embedded, gold.accurate_x[test]),
        _vote(gold.embeddings[test], neighbours, np.concatenate([y[train], more.y])),
        _vote_weights(gold.embeddings[test], neighbours),
    )


def rule_readings(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What the guideline's rules read in each text: its commercial push and its invitation to reply."""
    cues = find_cues_batch(texts)
    return PUSH_RULE.pushes(cues), INVITATION_RULE.invites(cues)


def apply_rules(proba: np.ndarray, readings: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The tiers' probabilities after rule 2 (commercial push), then rule 3 (invitation), as the model applies them."""
    pushes, invites = readings
    return INVITATION_RULE.apply(PUSH_RULE.apply(proba, pushes), invites)


def _fit(x: object, y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000).fit(x, y)


def _logits(model: LogisticRegression, x: object) -> np.ndarray:
    return np.asarray(model.decision_function(x), dtype=np.float64)


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def _calibrated(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Probabilities of out-of-fold ``logits`` at the temperature fitted on them."""
    return softmax(logits / _temperature(logits, y))


def _with_vote(mean: np.ndarray, votes: np.ndarray, weight: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The accurate tier's blend: ``weight`` of each row given to the neighbours' vote, then calibrated.

    A soft blend and a nearly all-or-nothing vote, averaged, are not calibrated: the result gets
    its own temperature, fitted out of fold (below 1 here: the average was underconfident).
    Returns the probabilities and that temperature.
    """
    voted = (1 - weight[:, None]) * mean + weight[:, None] * votes
    temperature = _temperature(log_proba(voted), y)
    return calibrate(voted, temperature), temperature


def _vote(embeddings: np.ndarray, neighbours: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return neighbour_vote(
        embeddings.astype(np.float32),
        neighbours.astype(np.float32),
        labels,
        k=int(NEIGHBOURS["k"]),
        temperature=float(NEIGHBOURS["temperature"]),
    )


def _vote_weights(embeddings: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    return vote_weights(
        embeddings.astype(np.float32),
        neighbours.astype(np.float32),
        weight=float(NEIGHBOURS["weight"]),
        min_similarity=float(NEIGHBOURS["min_similarity"]),
    )


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, p.argmax(1), average="macro"))


def write_predictions(
    path: Path, rows: list[dict[str, str]], by_tier: dict[str, np.ndarray], readings: tuple[np.ndarray, np.ndarray]
) -> None:
    """One line per gold post: its item, language, gold label and each tier's out-of-fold probabilities."""
    final = {tier: apply_rules(proba, readings) for tier, proba in by_tier.items()}
    with path.open("w", encoding="utf-8") as handle:
        for index, row in enumerate(rows):
            line: dict[str, object] = {"item": row["item"], "lang": row["lang"], "label": row["label"]}
            for tier, proba in final.items():
                line[tier] = INTENT_LABELS[int(proba[index].argmax())]
                line[f"{tier}_proba"] = [round(float(v), 4) for v in proba[index]]
            handle.write(json.dumps(line) + "\n")
    print(f"wrote {len(rows)} out-of-fold predictions to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="train the intent model")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument(
        "--without-developer-labels", action="store_true", help="gold posts only (the recipe before session 20)"
    )
    parser.add_argument(
        "--with-session21-labels",
        action="store_true",
        help=f"also train on {SESSION21_LABELS.name} (an experiment; never for the shipped model)",
    )
    parser.add_argument(
        "--predictions", type=Path, help="also write each gold post's out-of-fold probabilities here (JSON Lines)"
    )
    args = parser.parse_args()

    rows = read_gold(args.gold)
    gold = LabelledPosts.build(
        [r["text"] for r in rows],
        [r["lang"] for r in rows],
        [r["label"] for r in rows],
        [organisation(r.get("account", "")) for r in rows],
        [r.get("account", "") for r in rows],
    )
    texts, langs, y = gold.texts, gold.langs, gold.y
    if args.with_session21_labels and args.out.resolve() == MODEL_DIR.resolve():
        parser.error("--with-session21-labels is an experiment: give --out a scratch folder, not the shipped model's")
    label_files = (DEVELOPER_LABELS, SESSION21_LABELS) if args.with_session21_labels else (DEVELOPER_LABELS,)
    if args.without_developer_labels:
        extra = gold.subset(np.zeros(0, dtype=np.int64))
    else:
        extra = read_developer_labels(label_files)
    print(f"{len(y)} gold posts, {len(extra.y)} developer-labelled posts (weight {DEVELOPER_WEIGHT})", flush=True)

    strata = [f"{r['lang']}-{r['label']}" for r in rows]
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(texts, strata))
    fast_logits, embedded_logits, votes, vote_weight = tiers_out_of_fold(gold, extra, folds, held_out_by=None)

    fast_t = _temperature(fast_logits, y)
    embedded_t = _temperature(embedded_logits, y)
    fast_p = softmax(fast_logits / fast_t)
    without_vote = (fast_p + softmax(embedded_logits / embedded_t)) / 2
    accurate_p, calibration = _with_vote(without_vote, votes, vote_weight, y)
    # The lowest threshold that keeps the routed mode within 0.01 of the accurate tier overall
    # and in each language (one language's gain must not hide the other's loss).
    language = np.array(langs)
    groups = [np.ones(len(y), dtype=bool)] + [language == lang for lang in ("es", "en")]
    accurate_by_group = [_macro_f1(y[g], accurate_p[g]) for g in groups]
    threshold, routed_share = 1.0, 1.0
    for candidate in np.arange(0.40, 1.001, 0.025):
        routed = fast_p.max(1) < candidate
        mixed = np.where(routed[:, None], accurate_p, fast_p)
        if all(_macro_f1(y[g], mixed[g]) >= f1 - 0.01 for g, f1 in zip(groups, accurate_by_group, strict=True)):
            threshold, routed_share = float(round(candidate, 3)), float(routed.mean())
            break
    routed_p = np.where((fast_p.max(1) < threshold)[:, None], accurate_p, fast_p)

    truth = [INTENT_LABELS[i] for i in y]
    readings = rule_readings(texts)
    pushes, invites = readings
    cross_validated, without_rules, push_rule_only = {}, {}, {}
    for name, raw in (("fast", fast_p), ("accurate", accurate_p), ("routed", routed_p)):
        for scores, proba in (
            (without_rules, raw),
            (push_rule_only, PUSH_RULE.apply(raw, pushes)),
            (cross_validated, apply_rules(raw, readings)),
        ):
            predicted = [INTENT_LABELS[i] for i in proba.argmax(1)]
            scores[name] = scores_by_language(truth, predicted, langs, INTENT_LABELS, proba)

    def macro_f1s(by_tier: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
        return {
            tier: {lang: scores[lang]["macro_f1"] for lang in ("es", "en", "all")} for tier, scores in by_tier.items()
        }

    summary = macro_f1s(cross_validated)
    if args.predictions:
        by_tier = {"fast": fast_p, "accurate": accurate_p, "routed": routed_p}
        write_predictions(args.predictions, rows, by_tier, readings)
    language_mask = {lang: np.array(langs) == lang for lang in ("es", "en")}
    print(
        "accurate tier without the neighbours' vote:",
        {lang: round(_macro_f1(y[mask], without_vote[mask]), 4) for lang, mask in language_mask.items()},
    )
    print("without the guideline's rules:", json.dumps(macro_f1s(without_rules)))
    pushing = int((pushes > 0).sum())
    print(f"with the commercial-push rule ({pushing} gold posts push):", json.dumps(macro_f1s(push_rule_only)))
    print(f"and the invitation rule ({int(invites.sum())} gold posts invite):", json.dumps(summary, indent=2))
    print(
        f"the vote for {(vote_weight > 0).mean():.0%} of posts; "
        f"temperatures fast {fast_t:.3f} embedded {embedded_t:.3f} after the vote {calibration:.3f}; "
        f"route below {threshold} ({routed_share:.0%})"
    )

    fast_final = _fit_with(gold.fast_x, y, extra.fast_x, extra.y, FAST_C)
    embedded_final = _fit_with(gold.accurate_x, y, extra.accurate_x, extra.y, ACCURATE_C)
    unit = np.vstack([gold.unit, extra.unit])
    neighbour_labels = np.concatenate([y, extra.y])
    digest = hashlib.sha256(args.gold.read_bytes()).hexdigest()[:16]
    # The version names the weights, not only the data: a new recipe on the same gold must
    # relabel the store (labels are kept per model version).
    weights = hashlib.sha256()
    for final in (fast_final, embedded_final):
        weights.update(final.coef_.astype(np.float32).tobytes())
        weights.update(final.intercept_.astype(np.float32).tobytes())
    weights.update(f"{fast_t:.6f} {embedded_t:.6f} {threshold}".encode())
    weights.update(f"push {json.dumps(PUSH_RULE.as_meta(), sort_keys=True)}".encode())
    weights.update(f"invitation {json.dumps(INVITATION_RULE.as_meta(), sort_keys=True)}".encode())
    weights.update(
        unit.tobytes() + neighbour_labels.astype(np.int8).tobytes() + json.dumps(NEIGHBOURS, sort_keys=True).encode()
    )
    weights.update(f"{calibration:.6f}".encode())
    version = f"intent-{dt.date.today():%Y%m%d}-{weights.hexdigest()[:8]}"
    model = IntentModel(
        version=version,
        fast_coef=fast_final.coef_.astype(np.float32),
        fast_intercept=fast_final.intercept_.astype(np.float32),
        accurate_coef=embedded_final.coef_.astype(np.float32),
        accurate_intercept=embedded_final.intercept_.astype(np.float32),
        fast_temperature=fast_t,
        accurate_temperature=embedded_t,
        route_threshold=threshold,
        neighbour_embeddings=unit,
        neighbour_labels=neighbour_labels.astype(np.int8),
        meta={
            "neighbours": {**NEIGHBOURS, "calibration": calibration},
            "trained_on": {
                "gold": args.gold.name,
                "sha256": digest,
                "posts": len(y),
                "developer_labels": {
                    "file": ", ".join(path.name for path in label_files),
                    "sha256": hashlib.sha256(b"".join(path.read_bytes() for path in label_files)).hexdigest()[:16],
                    "posts": len(extra.y),
                    "weight": DEVELOPER_WEIGHT,
                }
                if len(extra.y)
                else None,
            },
            "recipe": (f"gold posts and the developers' labels at weight {DEVELOPER_WEIGHT}; " if len(extra.y) else "")
            + f"fast: LR(C={FAST_C}) on hashed n-grams + cues; accurate: mean of fast and LR(C={ACCURATE_C}) "
            "on e5 embeddings + cues, with a third given to the vote of the 5 most similar labelled posts "
            "when the closest has a cosine of at least 0.88; "
            "temperatures and routing threshold from out-of-fold predictions; "
            "then the guideline's commercial-push rule on uncertain posts and its invitation rule",
            "cross_validated": {"folds": FOLDS, "seed": SEED, "macro_f1": summary, "routed_share": routed_share},
            "commercial_push": PUSH_RULE.as_meta(),
            "invitation": INVITATION_RULE.as_meta(),
            "training_text_sha1": sorted(training_text_key(t) for t in texts + extra.texts),
        },
    )
    model.save(args.out)
    (ROOT / "training/_cache").mkdir(exist_ok=True)
    (ROOT / "training/_cache/cv_scores.json").write_text(json.dumps(cross_validated, indent=2))
    print(f"saved {version} to {args.out}")


if __name__ == "__main__":
    main()
