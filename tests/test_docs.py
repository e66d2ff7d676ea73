"""The docs describe what exists: commands, formats, columns and the public API."""

from __future__ import annotations

from pathlib import Path

import equilibrio
from equilibrio.cli import app
from equilibrio.io import IMPORTERS
from equilibrio.store.duck import Store

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DATA_MODEL = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
IMPORTERS_DOC = (ROOT / "docs" / "importers.md").read_text(encoding="utf-8")


def test_readme_has_the_two_commands_and_ci_calls_the_test_one() -> None:
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme() -> None:
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        assert f"equilibrio {name}" in README, name


def test_every_format_is_documented() -> None:
    for importer in IMPORTERS:
        assert f"| `{importer.name}` |" in IMPORTERS_DOC, importer.name


def test_every_stored_column_is_documented() -> None:
    with Store(None) as store:
        for table in ("posts", "accounts", "conversions"):
            for (column,) in store.fetchall(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
            ):
                assert f"`{column}`" in DATA_MODEL, f"{table}.{column}"


def test_public_api() -> None:
    assert {"load", "Workspace", "IngestResult", "EquilibrioError"} <= set(equilibrio.__all__)
    assert all(hasattr(equilibrio, name) for name in equilibrio.__all__)
    assert equilibrio.load.__doc__ and ">>>" in equilibrio.load.__doc__


def test_every_web_app_route_is_documented() -> None:
    from equilibrio.app import create_app

    app_doc = (ROOT / "docs" / "app.md").read_text(encoding="utf-8")
    with Store(None) as store:
        routes = create_app(equilibrio.Workspace(store)).routes
    for route in routes:
        path = getattr(route, "path", "")
        if path != "/favicon.ico":
            assert f"`{path}`" in app_doc or f" {path}`" in app_doc, path
