"""The exceptions equilibrio raises.

Every error derives from :class:`EquilibrioError`; where a built-in fits, the
subclass inherits it too so callers can catch either::

    EquilibrioError
    ├── InputError (ValueError)        bad input: names the file, record and problem
    │   ├── FormatDetectionError       the file's format could not be recognised
    │   └── EmptyInputError            the file holds no records
    ├── ConfigurationError (ValueError)  bad option or mapping
    └── StoreError (RuntimeError)      the store could not be opened or migrated
"""

from __future__ import annotations

from pathlib import Path


class EquilibrioError(Exception):
    """Root of every error raised by equilibrio."""


class InputError(EquilibrioError, ValueError):
    """An input file or record cannot be read; the message says where and why."""

    def __init__(self, message: str, *, path: Path | str | None = None, where: str | None = None):
        self.path = str(path) if path is not None else None
        self.where = where
        prefix = ""
        if self.path:
            prefix = self.path + (f" ({where})" if where else "") + ": "
        elif where:
            prefix = f"{where}: "
        super().__init__(prefix + message)


class FormatDetectionError(InputError):
    """The importer for a file could not be chosen from its content."""


class EmptyInputError(InputError):
    """The file holds no records at all."""


class ConfigurationError(EquilibrioError, ValueError):
    """An option, mapping or setting is invalid."""


class StoreError(EquilibrioError, RuntimeError):
    """The store could not be opened, migrated or written."""
