"""equilibrio: is a brand's social media a conversation or a megaphone, and does it pay?

>>> import equilibrio
>>> workspace = equilibrio.load()          # an in-memory workspace
>>> workspace.info()["posts"]
0
"""

import equilibrio.report as _report_package  # noqa: F401  (bound first: the `report` verb below must win)
from equilibrio._version import __version__
from equilibrio.api import Workspace, analyze, check_draft, load, report
from equilibrio.errors import (
    ConfigurationError,
    EmptyInputError,
    EquilibrioError,
    FormatDetectionError,
    InputError,
    StoreError,
)
from equilibrio.store.ingest import IngestResult

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
