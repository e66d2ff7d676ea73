"""Audience sentiment: the xlm-t reader, the shipped model, and `equilibrio eval sentiment`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from equilibrio.cli import app
from equilibrio.errors import InputError
from equilibrio.nlp.sentiment import SENTIMENT_LABELS, SentimentModel, net_sentiment
from equilibrio.nlp.sentiment_eval import read_labelled_text


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


# Lone surrogates (category Cs) cannot be written as UTF-8, so no text file can hold them.
@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), min_size=1),
            st.sampled_from("012"),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_reader_pairs_lines(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]]) -> None:
    folder = tmp_path_factory.mktemp("xlmt")
    texts = _write(folder / "t.txt", [text for text, _ in rows])
    labels = _write(folder / "l.txt", [label for _, label in rows])
    read_texts, read_labels = read_labelled_text(texts, labels)
    assert read_texts == [text for text, _ in rows]
    assert read_labels == [SENTIMENT_LABELS[int(label)] for _, label in rows]


def test_reader_names_the_file_and_line(tmp_path: Path) -> None:
    texts = _write(tmp_path / "t.txt", ["uno", "dos", "tres"])
    with pytest.raises(InputError, match=r"l\.txt, line 2: label '5'"):
        read_labelled_text(texts, _write(tmp_path / "l.txt", ["0", "5", "1"]))
    with pytest.raises(InputError, match="2 labels for 3 lines"):
        read_labelled_text(texts, _write(tmp_path / "short.txt", ["0", "1"]))
    with pytest.raises(InputError, match="no such file"):
        read_labelled_text(tmp_path / "missing.txt", texts)


def test_model_reads_clear_cases_in_both_languages() -> None:
    model = SentimentModel.load()
    texts = [
        "Pésimo servicio, llevo tres días sin respuesta y nadie me ayuda",
        "¡Muchas gracias! Me encantó la atención, excelente",
        "Terrible experience, the worst support I have ever had",
        "Thank you so much, you guys are amazing!",
    ]
    probabilities, _ = model.predict_proba(texts, ["es", "es", "en", "en"], mode="fast")
    assert [SENTIMENT_LABELS[i] for i in probabilities.argmax(axis=1)] == [
        "negative",
        "positive",
        "negative",
        "positive",
    ]
    assert probabilities.sum(axis=1) == pytest.approx([1.0] * 4)


def test_net_sentiment() -> None:
    assert net_sentiment(3, 1) == 0.5
    assert net_sentiment(0, 0) is None


def test_eval_sentiment_cli_on_held_out_tweets(shared_data: Path, tmp_path: Path) -> None:
    # The first 80 tweets of xlm-t's Spanish validation split: never used in training.
    folder = shared_data / "sentiment" / "xlmt_es"
    texts = _write(tmp_path / "val_text.txt", (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()[:80])
    labels = _write(tmp_path / "val_labels.txt", (folder / "val_labels.txt").read_text().splitlines()[:80])
    result = CliRunner().invoke(
        app, ["eval", "sentiment", str(texts), "--labels", str(labels), "--lang", "es", "--mode", "fast", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 80
    assert set(report["macro_f1"]) == {"es", "all"}
    assert report["macro_f1"]["es"] > 0.4  # chance is about 0.33 on three balanced classes
