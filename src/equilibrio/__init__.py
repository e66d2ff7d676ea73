"""equilibrio: is a brand's social media a conversation or a megaphone, and does it pay?

>>> import equilibrio
>>> workspace = equilibrio.load()          # an in-memory workspace
>>> workspace.info()["posts"]
0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import equilibrio.report as _report_package  # noqa: F401  (bound first, then unbound: the `report` verb must win)
from equilibrio._version import __version__
from equilibrio.errors import (
    ConfigurationError,
    EmptyInputError,
    EquilibrioError,
    FormatDetectionError,
    InputError,
    StoreError,
)

if TYPE_CHECKING:
    from equilibrio.api import Workspace, analyze, check_draft, load, report
    from equilibrio.store.ingest import IngestResult

# The verbs load the models' libraries (scikit-learn and the rest: about 1.5 s), so they are
# imported on first use. A program that needs only a lower layer, such as `import
# equilibrio.store.duck` in the ingest benchmark, does not pay for them.
_LAZY: dict[str, str] = {
    "IngestResult": "equilibrio.store.ingest",
    "Workspace": "equilibrio.api",
    "analyze": "equilibrio.api",
    "check_draft": "equilibrio.api",
    "load": "equilibrio.api",
    "report": "equilibrio.api",
}
# Importing the subpackage bound its module to this name; unbinding it lets `equilibrio.report`
# reach the verb through __getattr__ (the subpackage stays loaded, so it is never bound again).
del globals()["report"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'equilibrio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ConfigurationError",
    "EmptyInputError",
    "EquilibrioError",
    "FormatDetectionError",
    "IngestResult",
    "InputError",
    "StoreError",
    "Workspace",
    "__version__",
    "analyze",
    "check_draft",
    "load",
    "report",
]
