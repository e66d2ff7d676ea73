"""The files of a shipped two-tier model: ``NAME.npz`` (weights) and ``NAME.json`` (metadata).

Intent and sentiment models share this layout: a fast linear tier on hashed text features and an
accurate linear tier on embeddings, each with a coefficient matrix and an intercept.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from equilibrio.errors import ConfigurationError

WEIGHT_NAMES = ("fast_coef", "fast_intercept", "accurate_coef", "accurate_intercept")


def write_model_files(
    directory: Path,
    name: str,
    weights: dict[str, npt.NDArray[Any]],
    meta: dict[str, object],
    extra: dict[str, npt.NDArray[Any]] | None = None,
) -> None:
    """Write ``weights`` (the fast coefficients as float16, which halves the wheel), ``extra`` arrays and ``meta``."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "fast_coef": weights["fast_coef"].astype(np.float16),
        "fast_intercept": weights["fast_intercept"],
        "accurate_coef": weights["accurate_coef"],
        "accurate_intercept": weights["accurate_intercept"],
        **(extra or {}),
    }
    # numpy's stub types the keyword arrays like its own allow_pickle flag.
    np.savez_compressed(directory / f"{name}.npz", **arrays)  # type: ignore[arg-type]
    (directory / f"{name}.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_model_files(
    directory: Path, name: str, training_script: str
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """The metadata and the weights of model ``name`` in ``directory``: :data:`WEIGHT_NAMES` as
    float32, and any extra arrays the model stored as they were written."""
    weights_path = directory / f"{name}.npz"
    meta_path = directory / f"{name}.json"
    if not weights_path.exists() or not meta_path.exists():
        raise ConfigurationError(f"no {name} model in {directory}: run `python {training_script}` first")
    meta = json.loads(meta_path.read_text())
    with np.load(weights_path) as stored:
        return meta, {key: stored[key].astype(np.float32) if key in WEIGHT_NAMES else stored[key] for key in stored}


def read_shipped_model_files(name: str, training_script: str) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """:func:`read_model_files` on the models folder inside the installed package."""
    with resources.as_file(resources.files("equilibrio") / "models") as directory:
        return read_model_files(Path(directory), name, training_script)
