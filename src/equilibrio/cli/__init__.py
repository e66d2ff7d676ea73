"""Command line: a thin layer over the Python API (typer + rich).

The commands live in three modules by what they work on (the store, the models, the figures) and
register themselves on the one typer app of :mod:`equilibrio.cli._shared` when imported here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from equilibrio._version import __version__
from equilibrio.cli._shared import app, console, errors
from equilibrio.errors import EquilibrioError

# isort: off
# Imported in this order on purpose: `equilibrio --help` lists the commands as they register,
# following the data (the store, then the models, then the figures).
from equilibrio.cli import store_commands, model_commands, insight_commands

# isort: on

__all__ = ["app", "insight_commands", "main", "model_commands", "store_commands"]


def _version(value: bool) -> None:
    if value:
        console.print(f"equilibrio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Is your brand's social media a conversation or a megaphone, and does it pay?"""


def main() -> None:
    try:
        app()
    except EquilibrioError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
