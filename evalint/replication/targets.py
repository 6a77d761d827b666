"""Replication targets: published (or reference-software) numbers and how to reproduce them.

A target lives in ``reference_data/<id>/target.toml`` (shipped inside the installed
package as ``evalint.reference_data``)::

    id = "sicily_its"
    title = "..."
    dataset = "sicily_its"
    runner = "sicily_its"          # a name registered in evalint.replication.runners
    reference_script = "..."
    [[quantities]]
    quantity = "poisson.level"
    reference = -0.1123
    tolerance = 1e-6
    relative = true
    source = "r_reference.csv, row ..."

The runner is a function ``runner(target: dict) -> dict[str, float]`` returning the
reproduced value of each quantity. Tolerances follow tests/README.md: half a unit of the
last published digit for published tables; the stated precision for reference software.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from evalint.errors import ReplicationError

__all__ = ["Target", "Quantity", "load_target", "list_targets", "run_target", "targets_root"]


def targets_root() -> Path:
    """Folder holding ``<id>/target.toml`` files.

    ``EVALINT_REFERENCE_DATA`` if set; else the checkout's ``reference_data/`` (when
    running from a source tree); else the copy installed as ``evalint.reference_data``.
    """
    env = os.environ.get("EVALINT_REFERENCE_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "reference_data"
    if here.is_dir() and any(here.glob("*/target.toml")):
        return here
    installed = Path(__file__).resolve().parents[1] / "reference_data"
    if installed.is_dir():
        return installed
    # Fallback for unusual installs (zip imports): resolve through importlib.resources.
    try:
        root = files("evalint.reference_data")
    except ModuleNotFoundError:
        return here
    # A namespace package yields a MultiplexedPath whose str() is not a path; take its
    # first concrete location.
    paths = getattr(root, "_paths", None)
    return Path(paths[0]) if paths else Path(str(root))


@dataclass(frozen=True)
class Quantity:
    """One number to reproduce."""

    quantity: str
    reference: float
    tolerance: float
    relative: bool = False
    source: str = ""
    label: str = ""

    def check(self, reproduced: float | None) -> bool:
        if reproduced is None or not math.isfinite(reproduced):
            return False
        allowed = self.tolerance * (abs(self.reference) if self.relative else 1.0)
        return abs(reproduced - self.reference) <= allowed + 1e-15


@dataclass(frozen=True)
class Target:
    """A replication target loaded from its TOML file."""

    id: str
    title: str
    runner: str
    quantities: tuple[Quantity, ...]
    dataset: str = ""
    reference_script: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def list_targets(include_internal: bool = False) -> list[str]:
    """Ids of every target under :func:`targets_root` (``_``-prefixed self-tests only on request)."""
    root = targets_root()
    ids = sorted(p.parent.name for p in root.glob("*/target.toml"))
    return [i for i in ids if include_internal or not i.startswith("_")]


#: a target id is a plain name: never a path
TARGET_ID = re.compile(r"^[a-z0-9_]+$")


def load_target(target_id: str) -> Target:
    """Load ``reference_data/<target_id>/target.toml``.

    Raises
    ------
    ReplicationError
        ``target_id`` is not a ``[a-z0-9_]+`` name of an installed target, or its file is malformed.
    """
    if not isinstance(target_id, str) or not TARGET_ID.match(target_id):
        raise ReplicationError(
            f"{target_id!r} is not a target id: ids are lower-case names ([a-z0-9_]+) of the installed "
            f"targets ({', '.join(list_targets()) or 'none'}; see `evalint replicate --list`), never paths."
        )
    path = targets_root() / target_id / "target.toml"
    if not path.is_file():
        raise ReplicationError(
            f"replication target {target_id!r} not found under {targets_root()}; "
            f"known targets: {', '.join(list_targets()) or 'none'}."
        )
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReplicationError(f"target file {path} is not valid TOML ({exc}).") from None
    try:
        qs = tuple(
            Quantity(quantity=str(q["quantity"]), reference=float(q["reference"]),
                     tolerance=float(q["tolerance"]), relative=bool(q.get("relative", False)),
                     source=str(q.get("source", "")), label=str(q.get("label", "")))
            for q in raw.get("quantities", [])
        )
        return Target(id=str(raw.get("id", target_id)), title=str(raw.get("title", target_id)),
                      runner=str(raw["runner"]), quantities=qs, dataset=str(raw.get("dataset", "")),
                      reference_script=str(raw.get("reference_script", "")), raw=raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReplicationError(f"target file {path} is malformed: {exc}") from None


def run_target(target: Target | str) -> pd.DataFrame:
    """Run a target's runner and compare each quantity with its reference.

    Returns
    -------
    pandas.DataFrame
        Columns ``target, quantity, reference, reproduced, tolerance, relative, pass, source``.
    """
    from evalint.replication.runners import resolve_runner

    t = load_target(target) if isinstance(target, str) else target
    fn = resolve_runner(t.runner, t.id)
    reproduced = fn(t.raw)
    rows = []
    for q in t.quantities:
        val = reproduced.get(q.quantity)
        val = None if val is None else float(val)
        rows.append({"target": t.id, "quantity": q.quantity, "reference": q.reference,
                     "reproduced": val, "tolerance": q.tolerance, "relative": q.relative,
                     "pass": q.check(val), "source": q.source})
    return pd.DataFrame(rows, columns=["target", "quantity", "reference", "reproduced", "tolerance",
                                       "relative", "pass", "source"])
