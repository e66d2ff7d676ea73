from __future__ import annotations

import numpy as np
import pytest

from equilibrio.errors import InputError
from equilibrio.nlp.intent import IntentModel
from equilibrio.nlp.intent_adapt import adapt_intent_model, fine_tune_softmax

MODEL = IntentModel.load()

# A brand whose thank-you posts are conversation by the guideline; the shipped fast tier reads
# the probe, a thank-you for birthday wishes, as value.
THANKS = [
    "Thank you all for the birthday wishes!",
    "Thanks everyone for the kind messages today!",
    "We are so grateful for all your wishes, thank you!",
    "Thank you for celebrating with us!",
]
PROBE = "Thanks for all the lovely wishes on our 10th birthday!"  # not among the examples


def test_adapting_to_a_brands_labels_moves_its_similar_posts_and_leaves_others_alone() -> None:
    before = MODEL.classify([PROBE], ["en"], "fast")[0]
    assert before.label == "value"
    adapted = adapt_intent_model(MODEL, THANKS, ["en"] * len(THANKS), ["conversation"] * len(THANKS))
    after = adapted.classify([PROBE], ["en"], "fast")[0]
    assert after.label == "conversation"
    assert after.probabilities["conversation"] > before.probabilities["conversation"] + 0.2
    # Far from the examples, the decisions stay the shipped model's.
    others = ["Shop now and save 20% on every order. Limited time offer!", "@sam_k Sorry to hear that, Sam. DM us"]
    assert [r.label for r in adapted.classify(others, ["en", "en"])] == [
        r.label for r in MODEL.classify(others, ["en", "en"])
    ]


def test_an_adapted_model_names_its_base_and_examples() -> None:
    labels = ["conversation"] * len(THANKS)
    adapted = adapt_intent_model(MODEL, THANKS, ["en"] * len(THANKS), labels)
    again = adapt_intent_model(MODEL, THANKS, ["en"] * len(THANKS), labels)
    other = adapt_intent_model(MODEL, THANKS, ["en"] * len(THANKS), ["value"] * len(THANKS))
    assert adapted.version == again.version != other.version
    assert adapted.version.startswith(MODEL.version + "+own-")
    assert adapted.meta["adapted"] == {"base_version": MODEL.version, "examples": 4, "penalty": 1.0}
    assert MODEL.neighbour_labels is not None and adapted.neighbour_labels is not None
    assert len(adapted.neighbour_labels) == len(MODEL.neighbour_labels) + len(THANKS)
    # `equilibrio eval intent` warns about these texts now: the model has seen them.
    seen = adapted.meta["training_text_sha1"]
    assert isinstance(seen, list) and len(seen) == len(set(seen)) >= len(THANKS)
    assert MODEL.meta.get("adapted") is None  # the shipped model is untouched


def test_the_fine_tune_keeps_weights_no_example_touches() -> None:
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(3, 6)).astype(np.float32)
    intercept = np.zeros(3, np.float32)
    features = np.zeros((4, 6))
    features[:, :2] = rng.normal(size=(4, 2))
    new_coef, _ = fine_tune_softmax(coef, intercept, features, np.array([0, 1, 2, 0]), penalty=1.0)
    assert np.allclose(new_coef[:, 2:], coef[:, 2:], atol=1e-5)
    assert not np.allclose(new_coef[:, :2], coef[:, :2])
    # A stronger pull towards the original weights moves them less.
    tight, _ = fine_tune_softmax(coef, intercept, features, np.array([0, 1, 2, 0]), penalty=100.0)
    assert np.abs(tight - coef).sum() < np.abs(new_coef - coef).sum()


@pytest.mark.parametrize(
    ("texts", "langs", "labels", "message"),
    [
        ([], [], [], "no labelled posts"),
        (["a"], ["en"], ["sale"], "unknown intent labels"),
        (["a", "b"], ["en"], ["value", "value"], "one of each per post"),
    ],
)
def test_bad_examples_are_refused_clearly(texts: list[str], langs: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        adapt_intent_model(MODEL, texts, langs, labels)
