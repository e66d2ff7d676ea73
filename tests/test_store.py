"""Store guarantees: migrations, idempotent re-ingest, incremental updates, one transaction, privacy."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from equilibrio.api import Workspace
from equilibrio.errors import StoreError
from equilibrio.io import jsonl
from equilibrio.store.duck import Store
from tests.conftest import table_counts


def test_store_is_a_real_file_with_a_versioned_schema(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "brand.duckdb"
    with caplog.at_level(logging.WARNING, logger="equilibrio.store.duck"), Store(path) as store:
        # 1: canonical tables, 2: post_labels, 3: threads + sentiment, 4: unkeyed threads,
        # 5: mentions kept in threads, 6: quoted post and account, 7: post columns in threads,
        # 8: post texts compressed with zstd, 9: accounts without a primary key, 10: intent_examples
        assert store.schema_version() == 10
    assert path.exists()
    assert not caplog.records  # a new store's migrations are no news to its user
    with Store(path) as store:  # reopening applies nothing twice
        assert store.fetchone("SELECT count(*) FROM schema_migrations")[0] == 10


@contextmanager
def _workspace_at_schema(path: Path, version: int) -> Iterator[Workspace]:
    """A workspace whose store stops at schema ``version``, as an older equilibrio wrote it."""
    from equilibrio.store import duck, migrations

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duck, "MIGRATIONS", migrations.MIGRATIONS[:version])
        patch.setattr(duck, "CURRENT_VERSION", version)
        with Workspace(Store(path)) as workspace:
            yield workspace


def test_migration_7_makes_threads_rebuild(tmp_path: Path, ibm_sample: Path) -> None:
    # A store at schema 6 whose threads were built: after migration 7 they must not pass for
    # current, or the new post columns of threads would stay empty.
    from equilibrio.metrics.threads import build_threads, threads_are_current, threads_source

    path = tmp_path / "schema6.duckdb"
    with _workspace_at_schema(path, 6) as workspace:
        workspace.ingest(ibm_sample)
        workspace.store.execute(
            "INSERT INTO threads (post_id, conversation_id, link, depth, author_key) "
            "SELECT post_id, post_id, 'root', 0, account_id FROM posts"
        )
        workspace.store.set_setting("threads_built_for", threads_source(workspace.store))
        assert workspace.store.schema_version() == 6 and threads_are_current(workspace.store)
    with Store(path) as store:
        assert store.schema_version() == 10
        assert store.fetchone("SELECT count(*) FROM threads")[0] == 0
        assert not threads_are_current(store)
        build_threads(store)
        missing = store.fetchone("SELECT count(*) FROM threads WHERE created_at IS NULL OR kind IS NULL")[0]
        assert missing == 0


def test_migration_8_keeps_every_post_and_stores_texts_with_zstd(
    tmp_path: Path, ibm_sample: Path, fixtures: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "schema7.duckdb"
    every_post = "SELECT * FROM posts ORDER BY post_id"
    with _workspace_at_schema(path, 7) as workspace:
        workspace.ingest(ibm_sample)
        before = workspace.store.arrow(every_post)
    with caplog.at_level(logging.WARNING, logger="equilibrio.store.duck"):
        workspace = Workspace(Store(path))
    # copying every post can take a while on a big store: the user is told why it waits
    assert "upgrading store" in caplog.text and "schema version 8" in caplog.text
    with workspace:
        assert workspace.store.schema_version() == 10
        assert workspace.store.arrow(every_post).equals(before)
        workspace.ingest(fixtures / "es_handle_threads.csv")  # rows written after the migration
    with Store(path) as store:
        compressions = {
            name
            for (name,) in store.fetchall(
                "SELECT DISTINCT compression FROM pragma_storage_info('posts') "
                "WHERE column_name = 'text' AND segment_type = 'VARCHAR'"
            )
        }
    assert compressions == {"ZSTD"}


def test_migration_9_keeps_every_account_and_ingests_still_keep_them_unique(
    tmp_path: Path, ibm_sample: Path, fixtures: Path
) -> None:
    path = tmp_path / "schema8.duckdb"
    every_account = "SELECT * FROM accounts ORDER BY account_id"
    with _workspace_at_schema(path, 8) as workspace:
        workspace.ingest(ibm_sample)
        before = workspace.store.arrow(every_account)
    with Workspace(Store(path)) as workspace:
        assert workspace.store.arrow(every_account).equals(before)
        workspace.ingest(ibm_sample)  # every account merged again, none added
        workspace.ingest(fixtures / "es_handle_threads.csv")
        repeated = "SELECT count(*) - count(DISTINCT account_id) FROM accounts"
        assert workspace.store.fetchone(repeated)[0] == 0
        assert workspace.store.fetchone("SELECT count(*) FROM accounts")[0] > before.num_rows


def test_an_ingest_that_would_leave_an_account_twice_fails_and_changes_nothing(
    workspace: Workspace, ibm_sample: Path
) -> None:
    # Only a bug could do it (the merge groups the incoming accounts); the check makes it loud.
    workspace.ingest(ibm_sample)
    workspace.store.execute("INSERT INTO accounts SELECT * FROM accounts LIMIT 1")  # the "bug"
    counts = table_counts(workspace)
    with pytest.raises(AssertionError, match="account ids stored twice"):
        workspace.ingest(ibm_sample)
    assert table_counts(workspace) == counts


def test_store_never_draws_duckdb_progress_bars() -> None:
    # DuckDB draws a bar on standard output for statements over two seconds, even into a file or
    # a pipe (11 KB of bars ahead of a script's own output for one 15 s statement, measured), which
    # would corrupt `--json` output. Checked by the setting: a statement long enough to trigger
    # the bar would slow the suite. DuckDB still measures progress, for reporting_progress.
    with Store(None) as store:
        assert store.fetchone("SELECT current_setting('enable_progress_bar_print')")[0] is False


def test_reporting_progress_follows_a_running_statement() -> None:
    seen: list[float] = []
    with Store(None) as store, store.reporting_progress(seen.append, every_seconds=0.01):
        store.fetchone("SELECT count(*) FROM range(150000000) AS t(i) WHERE hash(i) % 7 = 0")
    assert seen, "no progress reported while the statement ran"
    assert all(0 <= fraction <= 1 for fraction in seen)
    assert seen == sorted(seen)  # one statement: its scan only moves forward


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with Store(path) as store:
        store.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', now())")
    with pytest.raises(StoreError, match="schema version 99, newer than this equilibrio understands"):
        Store(path)


def test_reingest_is_idempotent(workspace: Workspace, ibm_sample: Path) -> None:
    (first,) = workspace.ingest(ibm_sample)
    posts_before = workspace.info()["posts"]
    (second,) = workspace.ingest(ibm_sample)
    assert second.rows_inserted == 0
    assert second.rows_unchanged == first.rows_inserted
    assert second.rows_rejected == first.rows_rejected
    assert workspace.info()["posts"] == posts_before
    assert workspace.store.fetchone("SELECT count(DISTINCT post_id) = count(*) FROM posts")[0] is True


def test_newer_export_updates_counts(workspace: Workspace, fixtures: Path, tmp_path: Path) -> None:
    workspace.ingest(fixtures / "twitter_api_v2.json")
    newer = json.loads((fixtures / "twitter_api_v2.json").read_text(encoding="utf-8"))
    newer["data"][1]["public_metrics"]["like_count"] = 9
    del newer["data"][1]["public_metrics"]["impression_count"]  # not in the newer export: keep the old value
    newer["data"].append({**newer["data"][0], "id": "1245500000000000000", "text": "one more"})
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer), encoding="utf-8")
    (result,) = workspace.ingest(path)
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (1, 1, 3)
    likes, impressions, first_id, last_id = workspace.store.fetchone(
        "SELECT likes, impressions, first_ingest_id, last_ingest_id FROM posts WHERE post_id = ?",
        ["twitter:1245425308704149506"],
    )
    assert (likes, impressions, first_id, last_id) == (9, 310, 1, 2)


def test_a_newer_export_dates_a_post_better_never_worse(workspace: Workspace, tmp_path: Path) -> None:
    tweet = "1134479110716006400"  # Tesla, 31 May 2019 at 15:17:52.254 UTC by its id

    def export(name: str, created_at: str) -> Path:
        path = tmp_path / name
        path.write_text(
            f"status_id,created_at,screen_name,text\n{tweet},{created_at},Tesla,Important\n", encoding="utf-8"
        )
        return path

    def stored() -> tuple[str, str]:
        when, precision = workspace.store.fetchone(
            "SELECT created_at, time_precision FROM posts WHERE post_id = ?", [f"twitter:{tweet}"]
        )
        return when.isoformat(), precision

    workspace.ingest(export("wrong.csv", "2019-05-31T10:00:00Z"))  # an export that got the hour wrong
    assert stored() == ("2019-05-31T10:00:00+00:00", "second")
    (result,) = workspace.ingest(export("dated_by_id.csv", "2019-05-31"))  # the day, refined by the id
    assert (result.rows_updated, stored()) == (1, ("2019-05-31T15:17:52.254000+00:00", "second"))
    (result,) = workspace.ingest(export("day_only.csv", "2019-05-30"))  # another day: the id does not agree
    assert (result.rows_unchanged, stored()) == (1, ("2019-05-31T15:17:52.254000+00:00", "second"))


def test_reingesting_the_ibm_sample_redates_closing_turns_dated_by_the_header(
    workspace: Workspace, ibm_sample: Path, tmp_path: Path
) -> None:
    # A store filled before closing turns were dated by their ids holds the header's date.
    closing = "1232582361155547138"
    old = {"post_id": closing, "platform": "twitter", "account_id": "@microsofthelps", "handle": "MicrosoftHelps"}
    path = tmp_path / "old.jsonl"
    path.write_text(
        json.dumps({**old, "created_at": "2020-02-25T08:25:09Z", "text": "@ReactiveRich 2/3"}), encoding="utf-8"
    )
    workspace.ingest(path)
    (result,) = workspace.ingest(ibm_sample)
    assert result.rows_updated == 1
    (when,) = workspace.store.fetchone("SELECT created_at FROM posts WHERE post_id = ?", [f"twitter:{closing}"])
    assert when.isoformat() == "2020-02-26T08:25:09.829000+00:00"


def test_failed_ingest_leaves_the_store_as_it_was(
    workspace: Workspace, ibm_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.ingest(ibm_sample)
    before = table_counts(workspace)
    lines = [
        json.dumps(
            {
                "post_id": str(i),
                "platform": "twitter",
                "account_id": "7",
                "created_at": "2021-01-01T00:00:00Z",
                "text": "x" * 50,
                "kind": "post",
            }
        )
        for i in range(200)
    ]
    path = tmp_path / "many.jsonl"
    # A broken first line sends the file down the line-by-line path, which stores its reject
    # before the interruption: the rollback has something real to undo.
    path.write_text("{broken\n" + "\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 2048)  # many blocks, so some are staged before the failure
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user presses Ctrl-C mid-ingest

    with pytest.raises(KeyboardInterrupt):
        workspace.ingest(path, progress=interrupt)
    assert table_counts(workspace) == before
    (result,) = workspace.ingest(path)  # and the store still works afterwards
    assert (result.rows_inserted, result.rows_rejected) == (200, 1)


def test_pseudonymize_audience_keeps_brand(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample, pseudonymize=True)
    conversation = json.loads(ibm_sample.read_text(encoding="utf-8"))[0]
    customer = conversation["dialogContent"][0]["client"]
    company = conversation["dialogHeader"]["company"]
    accounts = workspace.table("accounts").to_pylist()
    handles = {row["handle"] for row in accounts}
    assert company in handles
    assert customer not in handles
    audience = [row for row in accounts if not row["is_brand"]]
    assert audience and all(row["handle"].startswith("anon-") and row["display_name"] is None for row in audience)
    texts = workspace.store.fetchall("SELECT text FROM posts WHERE text LIKE ?", [f"%@{customer}%"])
    assert texts == []  # mentions of the customer inside brand replies are pseudonymized too
    brand_reply = workspace.store.fetchone(
        "SELECT text FROM posts WHERE post_id = ?", [f"twitter:{conversation['agentURL']['tweet_ID']}"]
    )[0]
    pseudonym = next(row["handle"] for row in audience if row["account_id"].startswith("twitter:anon-"))
    assert brand_reply.startswith("@anon-") and len(pseudonym) == len("anon-") + 16


def test_pseudonyms_are_stable_within_a_workspace(workspace: Workspace, ibm_sample: Path, tmp_path: Path) -> None:
    workspace.ingest(ibm_sample, pseudonymize=True)
    first = {row["account_id"] for row in workspace.table("accounts").to_pylist()}
    workspace.ingest(ibm_sample, pseudonymize=True)
    assert {row["account_id"] for row in workspace.table("accounts").to_pylist()} == first
    with Workspace(Store(tmp_path / "other.duckdb")) as other:  # another workspace, another salt
        other.ingest(ibm_sample, pseudonymize=True)
        audience = {row["account_id"] for row in other.table("accounts").to_pylist() if not row["is_brand"]}
        assert audience.isdisjoint(first)


def test_tables_come_out_as_arrow_and_polars(workspace: Workspace, uci_sample: Path) -> None:
    workspace.ingest(uci_sample)
    assert workspace.table("posts").num_rows == 500
    frame = workspace.polars("posts")
    assert frame.height == 500 and "likes" in frame.columns


def test_temporary_tables_show_every_appended_row_inside_a_transaction(tmp_path: Path) -> None:
    # More than one DuckDB row group (122,880 rows), appended in the transaction that made the
    # table: DuckDB 2.0.0 hid such rows from min/max and joins when the table was made by
    # CREATE TABLE AS from an empty Arrow table.
    rows = pa.table({"row key": pa.array(np.arange(200_000)), "label": pa.array(["x"] * 200_000)})
    with Store(tmp_path / "brand.duckdb") as store, store.transaction():
        store.create_temp_table("appended", rows.schema)
        store.append_arrow("appended", rows)
        assert store.fetchone('SELECT count(*), min("row key"), max("row key"), min(label) FROM appended') == (
            200_000,
            0,
            199_999,
            "x",
        )
        store.create_temp_table("probe", pa.schema([("row key", pa.int64())]))
        store.append_arrow("probe", rows.select(["row key"]))
        joined = store.fetchone('SELECT count(*) FROM appended JOIN probe USING ("row key")')
        assert joined == (200_000,)
