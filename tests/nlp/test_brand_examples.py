"""A brand's own labelled posts in its store: `equilibrio adapt`, then analyze and check use the adapted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from equilibrio.api import Workspace
from equilibrio.errors import InputError
from equilibrio.insights.balance import balance_analysis
from equilibrio.nlp.brand_examples import (
    add_intent_examples,
    intent_model_for,
    intent_version_for,
    stored_intent_examples,
)
from equilibrio.nlp.intent import IntentModel
from tests.test_cli import run

THANKS = [
    "Thank you all for the birthday wishes!",
    "Thanks everyone for the kind messages today!",
    "We are so grateful for all your wishes, thank you!",
    "Thank you for celebrating with us!",
]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_adapt_then_analyze_and_check_use_the_brands_model(tmp_path: Path, ibm_sample: Path) -> None:
    db = tmp_path / "brand.duckdb"
    assert run("ingest", ibm_sample, "--db", db).returncode == 0
    shipped = IntentModel.load().version
    rows = [{"lang": "en", "text": t, "label": "conversation"} for t in THANKS]
    rows += [rows[0], {"lang": "en", "text": "Ambiguous post", "label": "exclude"}]  # a repeat, a skipped row
    labels = _write(tmp_path / "labels.jsonl", rows)
    done = run("adapt", labels, "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert (figures["rows_read"], figures["rows_stored"], figures["rows_unchanged"]) == (5, 4, 1)
    assert figures["examples"] == 4 and figures["by_label"] == {"promotion": 0, "conversation": 4, "value": 0}
    adapted = figures["model_version"]
    assert adapted.startswith(shipped + "+own-")
    # Again with the same file: nothing new, the same model.
    again = json.loads(run("adapt", labels, "--db", db, "--json").stdout)
    assert (again["rows_stored"], again["model_version"]) == (0, adapted)

    analyzed = json.loads(run("analyze", "--db", db, "--mode", "fast", "--json").stdout)
    assert analyzed["model_version"] == adapted and analyzed["labelled"] > 0
    probe = "Thanks for all the lovely wishes on our 10th birthday!"
    with_store = json.loads(run("check", probe, "--db", db, "--mode", "fast", "--json").stdout)
    without = json.loads(run("check", probe, "--mode", "fast", "--json").stdout)
    assert (with_store["model_version"], with_store["label"]) == (adapted, "conversation")
    assert (without["model_version"], without["label"]) == (shipped, "value")

    cleared = json.loads(run("adapt", "--clear", "--db", db, "--json").stdout)
    assert (cleared["cleared"], cleared["examples"], cleared["model_version"]) == (4, 0, shipped)
    relabelled = json.loads(run("analyze", "--db", db, "--mode", "fast", "--json").stdout)
    # only the brand's posts: the audience's labels do not depend on the intent model
    assert relabelled["model_version"] == shipped and relabelled["labelled"] == analyzed["brand_posts"]


def test_a_text_labelled_two_ways_is_refused_and_nothing_is_stored(workspace: Workspace, tmp_path: Path) -> None:
    labels = _write(
        tmp_path / "labels.jsonl",
        [
            {"lang": "en", "text": THANKS[0], "label": "conversation"},
            {"lang": "en", "text": THANKS[0], "label": "value"},
        ],
    )
    with pytest.raises(InputError, match="labelled both 'conversation' and 'value'"):
        add_intent_examples(workspace.store, labels)
    assert stored_intent_examples(workspace.store) == []
    assert intent_model_for(workspace.store).version == IntentModel.load().version


def test_a_later_label_for_the_same_text_replaces_the_earlier(workspace: Workspace, tmp_path: Path) -> None:
    first = _write(tmp_path / "first.jsonl", [{"lang": "en", "text": THANKS[0], "label": "value"}])
    second = _write(tmp_path / "second.jsonl", [{"lang": "en", "text": THANKS[0], "label": "conversation"}])
    add_intent_examples(workspace.store, first)
    result = add_intent_examples(workspace.store, second)
    assert result.rows_stored == 1 and result.examples == 1
    assert stored_intent_examples(workspace.store) == [(THANKS[0], "en", "conversation")]


def test_adapt_names_the_bad_line_of_a_labels_file(tmp_path: Path, ibm_sample: Path) -> None:
    db = tmp_path / "brand.duckdb"
    assert run("ingest", ibm_sample, "--db", db).returncode == 0
    bad = tmp_path / "labels.jsonl"
    bad.write_text(
        '{"lang": "en", "text": "Hi", "label": "conversation"}\n{"lang": "en", "text": "x", "label": "sale"}\n'
    )
    done = run("adapt", bad, "--db", db)
    assert done.returncode != 0
    message = " ".join(done.stderr.split())  # the terminal may wrap it
    assert "labels.jsonl, line 2: label 'sale' is not one of" in message


def test_the_report_says_which_intent_model_labelled_the_mix(
    workspace: Workspace, tmp_path: Path, ibm_sample: Path
) -> None:
    workspace.ingest(ibm_sample)
    shipped = IntentModel.load().version

    def labelling(lang: str = "en") -> dict[str, object]:
        result: dict[str, object] = balance_analysis(workspace.store, lang=lang, with_attribute_model=False)[
            "intent_labelling"
        ]
        return result

    assert labelling()["statement"] is None  # nothing labelled yet
    workspace.analyze(mode="fast")
    shipped_labels = labelling()
    assert (shipped_labels["adapted"], shipped_labels["stale"], shipped_labels["own_examples"]) == (False, False, 0)
    assert f"the shipped model {shipped}" in str(shipped_labels["statement"])

    rows = [{"lang": "en", "text": t, "label": "conversation"} for t in THANKS]
    add_intent_examples(workspace.store, _write(tmp_path / "labels.jsonl", rows))
    stale = labelling()  # examples added, labels still the shipped model's
    assert stale["stale"] and "equilibrio analyze" in str(stale["statement"])

    workspace.analyze(mode="fast")
    adapted = labelling("es")
    assert (adapted["adapted"], adapted["stale"], adapted["own_examples"]) == (True, False, 4)
    assert adapted["statement"] == (
        f"Intenciones etiquetadas por {intent_model_for(workspace.store).version}: el modelo incluido adaptado a 4 "
        "publicaciones tuyas etiquetadas."
    )
    assert intent_version_for(workspace.store) == intent_model_for(workspace.store).version  # known without adapting

    # One more example: the labels are the previous adapted model's, no longer the current one's.
    add_intent_examples(
        workspace.store,
        _write(tmp_path / "more.jsonl", [{"lang": "en", "text": "Thanks for the warm welcome!", "label": "value"}]),
    )
    changed = labelling()
    assert (changed["adapted"], changed["stale"], changed["own_examples"]) == (False, True, 5)
