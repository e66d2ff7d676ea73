"""The command line, run as a user runs it: a real process on a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equilibrio", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=None if env is None else {**os.environ, **env},
    )


def test_ingest_and_info_json(tmp_path: Path, ibm_sample: Path, uci_sample: Path) -> None:
    db = tmp_path / "brand.duckdb"
    done = run("ingest", ibm_sample, uci_sample, "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["format"] for r in results] == ["ibm-care", "facebook-uci"]
    assert all(r["rows_read"] == r["rows_stored"] + r["rows_rejected"] for r in results)
    info = json.loads(run("info", "--db", db, "--json").stdout)
    assert info["posts"] == sum(r["rows_stored"] for r in results)
    assert {p["platform"] for p in info["by_platform"]} == {"twitter", "facebook"}
    assert info["by_kind"]["reply"] > 0 and info["first_post"] < info["last_post"]


def test_human_output_states_the_accounting(tmp_path: Path, uci_sample: Path) -> None:
    done = run("ingest", uci_sample, "--db", tmp_path / "b.duckdb")
    assert done.returncode == 0, done.stderr
    assert "read 500 = stored 500 + rejected 0" in done.stdout


def test_brand_option_and_brands_command(tmp_path: Path, fixtures: Path) -> None:
    db = tmp_path / "b.duckdb"
    assert run("ingest", fixtures / "twitter_api_v2.json", "--db", db, "--brand", "@TeamYouTube").returncode == 0
    assert json.loads(run("brands", "--db", db, "--json").stdout) == {"brands": ["teamyoutube"]}
    info = json.loads(run("info", "--db", db, "--json").stdout)
    assert info["brand_accounts"] == ["TeamYouTube"] and info["brand_posts"] == 2


def test_errors_name_the_file_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\n", encoding="utf-8")
    done = run("ingest", bad, "--db", tmp_path / "b.duckdb")
    assert done.returncode == 2
    assert "notes.txt" in done.stderr and "cannot tell the format" in done.stderr
    assert "Traceback" not in done.stderr


def test_commands_that_read_a_store_refuse_a_missing_one(tmp_path: Path) -> None:
    # A mistyped --db must not leave an empty store behind, nor print an empty answer.
    missing = tmp_path / "typo.duckdb"
    for command in ("info", "rejects", "brands", "analyze", "conversation", "balance"):
        done = run(command, "--db", missing)
        assert done.returncode == 2, (command, done.stdout)
        assert "no store at" in done.stderr and "equilibrio ingest" in done.stderr, command
        assert not missing.exists(), command
    assert run("check", "hola", "--db", missing).returncode == 2
    added = run("brands", "--db", missing, "--add", "@MyBrand")  # setting brands first may create it
    assert added.returncode == 0 and "@mybrand" in added.stdout.lower()


def test_rejects_command_lists_locations(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"post_id": "1", "platform": "twitter", "account_id": "a", "created_at": "nope"}\n', encoding="utf-8"
    )
    db = tmp_path / "my store.duckdb"
    ingested = run("ingest", path, "--db", db, env={"COLUMNS": "400"})
    # the hint names this store, quoted for the shell, so it can be pasted as it is
    assert f"equilibrio rejects --db '{db}'" in ingested.stdout
    rows = json.loads(run("rejects", "--db", db, "--json").stdout)
    assert [(r["location"], r["reason"]) for r in rows] == [("line 1", 'unparseable timestamp "nope"')]


def test_demo_writes_a_page_in_the_current_folder(tmp_path: Path) -> None:
    done = run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "equilibrio-demo.html"
    assert page.exists() and str(page) in done.stdout.replace("\n", "")
    html = page.read_text(encoding="utf-8")
    assert "read = stored + rejected" in html and "TeamYouTube" in html


def test_formats_lists_every_importer() -> None:
    names = {f["name"] for f in json.loads(run("formats", "--json").stdout)}
    assert {
        "jsonl",
        "json",
        "csv",
        "twitter-csv",
        "twitter-api",
        "twitter-archive",
        "mastodon",
        "bluesky",
        "facebook-graph",
        "facebook-uci",
        "ibm-care",
        "conversions",
    } == names
