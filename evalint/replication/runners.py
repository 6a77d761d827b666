"""The replication runners a target may name: evalint's own code only.

A ``target.toml`` names its runner by one of the keys of :data:`RUNNERS` (or, as the
shipped files do, by the exact ``module:function`` string registered here). Anything else is
refused: a target folder can never make ``evalint replicate`` import and call arbitrary code
(``builtins:print``, a path, another package). A new runner is added here, in evalint's
replication package (one module per target: ``mpdta.py``, ``prop99_adh.py``,
``prop99_synthdid.py``, ``sicily_its.py``), calling the estimators' public classes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from evalint.errors import ReplicationError

__all__ = ["RUNNERS", "resolve_runner"]

#: runner name -> (module, function); every module is inside evalint
RUNNERS: dict[str, tuple[str, str]] = {
    "selftest": ("evalint.replication.selftest", "run"),
    "mpdta": ("evalint.replication.mpdta", "run_mpdta"),
    "prop99_adh": ("evalint.replication.prop99_adh", "run_prop99_adh"),
    "prop99_synthdid": ("evalint.replication.prop99_synthdid", "run_prop99_synthdid"),
    "sicily_its": ("evalint.replication.sicily_its", "run_sicily_its"),
}


def resolve_runner(spec: str, target_id: str) -> Callable[[dict[str, Any]], dict[str, float]]:
    """The runner function registered as ``spec`` (a name, or its ``module:function`` string)."""
    entry = RUNNERS.get(spec)
    if entry is None:
        entry = next((v for v in RUNNERS.values() if f"{v[0]}:{v[1]}" == spec), None)
    if entry is None:
        raise ReplicationError(
            f"target {target_id!r}: runner {spec!r} is not one of evalint's replication runners "
            f"({', '.join(sorted(RUNNERS))}). Runners must be registered in evalint.replication.runners; "
            "a target file cannot name other code."
        )
    module, func = entry
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - a broken install
        raise ReplicationError(f"target {target_id!r}: runner {spec!r} cannot be imported ({exc}).") from None
