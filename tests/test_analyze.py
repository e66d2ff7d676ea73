"""Analysis on a real store: labels on every post, incremental runs, the draft checker with a workspace."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import equilibrio
from equilibrio.api import Workspace
from equilibrio.cli import app
from equilibrio.errors import EquilibrioError
from equilibrio.nlp.analyze import analyze_store
from equilibrio.nlp.intent import IntentModel
from equilibrio.store.duck import Store
from tests.test_cli import run


def test_analyze_labels_every_post_once(workspace: Workspace, ibm_sample: Path, uci_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    first = equilibrio.analyze(workspace)
    posts, brand = workspace.store.fetchone("SELECT count(*), count(*) FILTER (is_brand) FROM posts")
    assert first.labelled == posts and first.brand_posts == brand
    labels = workspace.polars("post_labels")
    assert labels.height == posts
    assert set(labels["model_version"]) == {IntentModel.load().version}
    brand_labels = workspace.store.fetchone(
        "SELECT count(*) FILTER (intent IS NOT NULL), count(*) FILTER (asks_question IS NOT NULL) "
        "FROM post_labels JOIN posts USING (post_id) WHERE is_brand"
    )
    assert brand_labels == (brand, 0)  # intent on brand posts, question flags only on audience messages
    audience_flags = workspace.store.fetchone(
        "SELECT count(*) FROM post_labels JOIN posts USING (post_id) WHERE NOT is_brand AND asks_question IS NULL"
    )
    assert audience_flags == (0,)
    assert equilibrio.analyze(workspace).labelled == 0  # incremental: nothing new
    workspace.ingest(uci_sample)  # UCI posts have no text: labelled with language 'other' and no intent
    second = equilibrio.analyze(workspace)
    assert second.labelled == 500 and second.already_current == posts


def test_analyze_relabels_when_the_model_changes(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    equilibrio.analyze(workspace)
    workspace.store.execute(
        "UPDATE post_labels SET model_version = 'intent-old' WHERE post_id IN "
        "(SELECT post_id FROM post_labels ORDER BY post_id LIMIT 7)"
    )
    assert equilibrio.analyze(workspace).labelled == 7


def test_content_mix_shares_add_up(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    workspace.analyze()
    mix = workspace.content_mix()
    assert isinstance(mix, dict)
    assert sum(mix["counts"].values()) == mix["posts"] > 0
    assert abs(sum(mix["shares"].values()) - 1) < 1e-3
    weekly = workspace.content_mix("week")
    assert isinstance(weekly, list) and sum(w["posts"] for w in weekly) == mix["posts"]


def test_draft_checker_speaks_the_drafts_language() -> None:
    spanish = equilibrio.check_draft("¡Compra ya! 30% de descuento y precio especial de $499. Cómpralo hoy")
    assert spanish.lang == "es" and spanish.label == "promotion"
    assert any("llamadas a comprar" in s for s in spanish.suggestions)
    assert any("ganchos comerciales" in s for s in spanish.suggestions)
    english = equilibrio.check_draft("We are proud to be named the #1 bank in the world. Open your account today")
    assert english.lang == "en" and english.label == "promotion"
    assert any(s.startswith("Self-praise") for s in english.suggestions)
    assert any("No question or invitation to reply" in s for s in english.suggestions)
    reply = equilibrio.check_draft("@ana Hola Ana, ¿nos compartes tu número de folio por DM para revisarlo?")
    assert reply.label == "conversation" and reply.suggestions == ["Buen equilibrio: nada que corregir."]
    assert "decided_by" not in reply.details
    short = equilibrio.check_draft("Reserva ya tu mesa")
    assert short.label == "promotion"
    assert (
        short.details["decided_by"].startswith("Promoción por la regla 2 de la guía")
        and "«Reserva" in short.details["decided_by"]
    )


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("https://t.co/abc #BlackFriday 🔥", "there are no words to read"),
        ("@ana @luis 🙂🙂", "there are no words to read"),
        ("Bonjour à tous ! Découvrez notre nouvelle collection d'automne", "does not read as Spanish or English"),
    ],
)
def test_draft_checker_says_when_a_draft_is_not_interpretable(text: str, warning: str) -> None:
    # The guideline's rule 1: only links or hashtags, or another language, is not interpretable;
    # the model still gives a label, so the checker says how little it means.
    check = equilibrio.check_draft(text)
    assert any(warning in s for s in check.suggestions)
    assert "Balanced: nothing to fix." not in check.suggestions
    readable = equilibrio.check_draft("Happy Friday! https://t.co/abc #TGIF 🔥")
    assert not any("no words to read" in s or "Spanish or English" in s for s in readable.suggestions)


def test_draft_checker_weighs_the_weeks_mix(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    workspace.analyze()
    check = equilibrio.check_draft("Shop now: 20% off everything", workspace, promotion_target=0.01)
    assert check.promotion_share_this_week is not None
    week = check.details["week"]
    assert week["shares"]["promotion"] == check.promotion_share_this_week
    expected = "above your 1% target" if check.promotion_share_this_week > 0.01 else "your target is at most 1%"
    assert any(expected in s for s in check.suggestions)


@pytest.mark.parametrize(
    ("text", "target", "message"), [("  \n", 0.2, "the draft is empty"), ("Shop now", 5.0, "between 0 and 1")]
)
def test_draft_checker_refuses_an_empty_draft_or_an_impossible_target(text: str, target: float, message: str) -> None:
    with pytest.raises(EquilibrioError, match=message):
        equilibrio.check_draft(text, promotion_target=target)


def test_cli_analyze_check_and_eval(tmp_path: Path, ibm_sample: Path) -> None:
    db = tmp_path / "b.duckdb"
    assert run("ingest", ibm_sample, "--db", db).returncode == 0
    done = run("analyze", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["labelled"] > 0 and result["content_mix"]["posts"] == result["brand_posts"]
    again = json.loads(run("analyze", "--db", db, "--json").stdout)
    assert again["labelled"] == 0
    checked = run("check", "¡Participa y gana! Compra tu boleto con 20% de descuento en nuestra tienda", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["label"] == "promotion"
    missing = run("analyze", "--db", tmp_path / "none.duckdb")
    assert missing.returncode == 2 and "no store at" in missing.stderr
    bad_mode = run("check", "hola", "--mode", "best")
    assert bad_mode.returncode == 2 and "unknown --mode" in bad_mode.stderr


def test_cli_eval_intent_json(tmp_path: Path, shared_data: Path) -> None:
    done = run("eval", "intent", shared_data / "intent" / "dev_gold.jsonl", "--mode", "fast", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["macro_f1"]) == {"es", "en", "all"}
    assert report["by_language"]["all"]["confusion"]["labels"] == ["promotion", "conversation", "value"]
    human = run("eval", "intent", shared_data / "intent" / "dev_gold.jsonl", "--mode", "fast")
    assert "not held-out" in human.stderr


def test_cli_eval_intent_with_another_model(tmp_path: Path, shared_data: Path) -> None:
    # The shipped model's files with its training-text hashes dropped: same figures, nothing counted as seen.
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shipped = Path(equilibrio.__file__).parent / "models"
    shutil.copy(shipped / "intent.npz", model_dir / "intent.npz")
    meta = json.loads((shipped / "intent.json").read_text())
    (model_dir / "intent.json").write_text(json.dumps({**meta, "training_text_sha1": []}))
    gold = shared_data / "intent" / "dev_gold.jsonl"
    shipped_report = json.loads(run("eval", "intent", gold, "--mode", "fast", "--json").stdout)
    other = run("eval", "intent", gold, "--mode", "fast", "--model", model_dir, "--json")
    assert other.returncode == 0, other.stderr
    other_report = json.loads(other.stdout)
    assert shipped_report["seen_in_training"] == 689 and other_report["seen_in_training"] == 0
    assert other_report["macro_f1"] == shipped_report["macro_f1"]
    missing = run("eval", "intent", gold, "--model", tmp_path / "nowhere")
    assert missing.returncode == 2 and "no intent model in" in missing.stderr


def test_analyze_streams_small_batches_to_the_same_labels(tmp_path: Path, ibm_sample: Path) -> None:
    labelled: dict[int, tuple[list[tuple[object, ...]], list[tuple[int, int]]]] = {}
    for batch_size in (5_000, 7):
        with Workspace(Store(tmp_path / f"batch_{batch_size}.duckdb")) as ws:
            ws.ingest(ibm_sample)
            reports: list[tuple[int, int]] = []
            stages: list[str] = []
            result = analyze_store(
                ws.store,
                mode="fast",
                batch_size=batch_size,
                progress=lambda done, total: reports.append((done, total)),
                on_stage=stages.append,
            )
            assert stages == ["labelling language, intent and questions", "scoring audience sentiment"]
            rows = ws.store.fetchall(
                "SELECT l.post_id, l.lang, l.intent, l.asks_question, s.sentiment FROM post_labels l "
                "LEFT JOIN post_sentiment s USING (post_id) ORDER BY l.post_id"
            )
            assert result.labelled == len(rows)
            labelled[batch_size] = (rows, reports)
    assert labelled[7][0] == labelled[5_000][0]
    small_batch_reports = labelled[7][1]
    assert len(small_batch_reports) > 10
    # progress counts up to each pass's total, intent pass first, then sentiment
    intent_total = small_batch_reports[0][1]
    intent_reports = [done for done, total in small_batch_reports if total == intent_total]
    assert intent_reports == sorted(intent_reports) and intent_reports[-1] == intent_total


def test_worker_processes_give_the_same_labels(tmp_path: Path, ibm_sample: Path) -> None:
    labels = (
        "SELECT * EXCLUDE (labelled_at, p_promotion, p_conversation, p_value), round(p_promotion, 12), "
        "round(p_conversation, 12), round(p_value, 12) FROM post_labels ORDER BY post_id"
    )
    sentiment = "SELECT * EXCLUDE (labelled_at) REPLACE (round(p_negative, 12) AS p_negative) FROM post_sentiment"
    stored: dict[int, tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[int, int]]]] = {}
    for workers in (1, 2):
        with Workspace(Store(tmp_path / f"workers_{workers}.duckdb")) as ws:
            ws.ingest(ibm_sample)
            reports: list[tuple[int, int]] = []
            result = analyze_store(
                ws.store,
                mode="fast",
                batch_size=40,  # many batches, so several are in flight in the pool at once
                workers=workers,
                progress=lambda done, total: reports.append((done, total)),
            )
            stored[workers] = (
                ws.store.fetchall(labels),
                ws.store.fetchall(sentiment + " ORDER BY post_id"),
                reports,
            )
            assert result.labelled == len(stored[workers][0])
    assert stored[2][0] == stored[1][0]
    assert stored[2][1] == stored[1][1] and stored[1][1]
    assert stored[2][2] == stored[1][2]  # the same progress, batch by batch, in order


def test_worker_processes_label_with_the_model_passed_in(tmp_path: Path, ibm_sample: Path) -> None:
    # A model unlike the shipped one (a bias towards promotion): workers that loaded the shipped
    # model instead of the one given would label the care replies conversation.
    shipped = IntentModel.load()
    biased = dataclasses.replace(
        shipped,
        version="test-promotion-bias",
        fast_intercept=(shipped.fast_intercept + np.array([20.0, 0.0, 0.0])).astype(np.float32),
    )
    labels: dict[int, list[tuple[object, ...]]] = {}
    for workers in (1, 2):
        with Workspace(Store(tmp_path / f"biased_{workers}.duckdb")) as ws:
            ws.ingest(ibm_sample)
            result = analyze_store(ws.store, mode="fast", batch_size=40, workers=workers, model=biased)
            assert result.model_version == "test-promotion-bias"
            labels[workers] = ws.store.fetchall(
                "SELECT post_id, model_version, intent FROM post_labels WHERE intent IS NOT NULL ORDER BY post_id"
            )
    assert labels[2] == labels[1]
    assert {intent for _, _, intent in labels[2]} == {"promotion"}
    assert {version for _, version, _ in labels[2]} == {"test-promotion-bias"}


def test_commands_label_a_big_backlog_with_the_fast_tier_alone(
    tmp_path: Path, ibm_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `equilibrio inbox` labels new posts on the way. Past the backlog limit it must not send
    # any to the accurate tier (hours on a big store); under it, routed mode does.
    stores = {name: tmp_path / f"{name}.duckdb" for name in ("big", "small")}
    for db in stores.values():
        with Workspace(Store(db)) as workspace:
            workspace.ingest(ibm_sample)
    tiers: dict[str, set[str]] = {}
    for name, limit in (("big", "100"), ("small", "100000")):
        monkeypatch.setenv("EQUILIBRIO_ROUTED_BACKLOG", limit)
        result = CliRunner().invoke(app, ["inbox", "--db", str(stores[name]), "--json"])
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)  # the notice goes to stderr, never into the JSON
        assert ("with the fast tier alone" in result.stderr) == (name == "big")
        with Store(stores[name]) as store:
            rows = store.fetchall("SELECT DISTINCT tier FROM post_labels WHERE tier IS NOT NULL")  # brand posts
            tiers[name] = {str(tier) for (tier,) in rows}
    assert tiers["big"] == {"fast"}
    assert "accurate" in tiers["small"]


def test_a_model_adapted_to_the_brand_labels_the_store_under_its_own_version(
    workspace: Workspace, ibm_sample: Path
) -> None:
    from equilibrio.nlp.intent_adapt import adapt_intent_model

    workspace.ingest(ibm_sample)
    shipped = IntentModel.load()
    replies = workspace.store.fetchall("SELECT text, lang FROM posts WHERE is_brand AND text IS NOT NULL LIMIT 5")
    texts = [text for text, _ in replies]
    adapted = adapt_intent_model(shipped, texts, ["en"] * len(texts), ["conversation"] * len(texts))
    result = workspace.analyze(mode="fast", intent_model=adapted)
    posts, brand = workspace.store.fetchone(
        "SELECT count(*), count(*) FILTER (is_brand AND kind <> 'repost') FROM posts"
    )
    assert result.model_version == adapted.version and result.labelled == posts
    versions_sql = (
        "SELECT p.is_brand AND p.kind <> 'repost', list(DISTINCT l.model_version) "
        "FROM post_labels l JOIN posts p USING (post_id) GROUP BY ALL"
    )
    # The brand's posts under the adapted model; the audience's, whose labels do not depend on the
    # intent model, under its base version, so that a change of examples relabels only the brand's.
    assert dict(workspace.store.fetchall(versions_sql)) == {True: [adapted.version], False: [shipped.version]}
    assert workspace.analyze(mode="fast", intent_model=adapted).labelled == 0  # incremental under it too
    # The shipped model afterwards: the brand's posts are labelled again, under the shipped version.
    assert 0 < brand < posts and workspace.analyze(mode="fast").labelled == brand
    assert set(workspace.polars("post_labels")["model_version"]) == {shipped.version}


def test_posts_of_an_account_marked_brand_later_get_an_intent(workspace: Workspace, tmp_path: Path) -> None:
    rows = [
        {"post_id": "1", "account_id": "acme", "text": "Big sale today: 30% off everything, buy now!", "kind": "post"},
        {"post_id": "2", "account_id": "acme", "text": "", "kind": "post"},
        {"post_id": "3", "account_id": "joe", "text": "@acme nice shoes", "kind": "reply"},
    ]
    export = tmp_path / "acme.jsonl"
    export.write_text(
        "".join(
            json.dumps(
                {**row, "platform": "twitter", "handle": row["account_id"], "created_at": "2021-01-01T10:00:00Z"}
            )
            + "\n"
            for row in rows
        ),
        encoding="utf-8",
    )
    workspace.ingest(export)
    assert workspace.analyze(mode="fast").labelled == 3
    labels = "SELECT post_id, intent, tier FROM post_labels ORDER BY post_id"
    assert [intent for _, intent, _ in workspace.store.fetchall(labels)] == [None, None, None]

    workspace.add_brands(["@acme"])
    assert workspace.analyze(mode="fast").labelled == 2  # acme's two posts, not joe's
    assert workspace.store.fetchall(labels) == [
        ("twitter:1", "promotion", "fast"),
        ("twitter:2", None, "no_text"),  # seen as the brand's, nothing to label
        ("twitter:3", None, None),
    ]
    assert workspace.analyze(mode="fast").labelled == 0
