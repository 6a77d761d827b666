"""No benchmark script shadows a module another package imports.

Running ``python benchmarks/x.py`` puts benchmarks/ first on ``sys.path``, so a script named like a
module shadows it for everything imported after: ``benchmarks/coverage.py`` (now
``default_coverage.py``) made ``import numba`` fail, since numba imports the coverage package when
it can (``numba/misc/coverage_support.py``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

#: Modules a dependency imports when they are installed, so shadowing them breaks it even where
#: they are not installed (numba: coverage).
OPTIONAL_IMPORTS = frozenset({"coverage"})


def _installed_top_level() -> set[str]:
    names: set[str] = set()
    for dist in importlib.metadata.distributions():
        top = dist.read_text("top_level.txt")
        if top:
            names.update(top.split())
        for f in dist.files or ():
            first = Path(str(f)).parts[0] if Path(str(f)).parts else ""
            if first and first != ".." and not first.endswith((".dist-info", ".egg-info", ".data", ".pth")):
                names.add(first.removesuffix(".py"))
    return names


def test_no_benchmark_module_shadows_an_importable_module() -> None:
    scripts = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
    assert "robustness_size" in scripts           # the folder was found
    taken = _installed_top_level() | set(sys.stdlib_module_names) | set(sys.builtin_module_names) | OPTIONAL_IMPORTS
    shadowing = [s for s in scripts
                 if s in taken or (str(BENCHMARKS) not in sys.path and importlib.util.find_spec(s) is not None)]
    assert shadowing == [], f"rename benchmarks/{shadowing[0]}.py: it shadows a module of that name"
