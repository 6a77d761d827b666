"""The import graph keeps the layer order ARCHITECTURE.md states.

Lower layers never import higher ones, and modules do not import each other in a cycle. The graph
is read from the source (``tests/architecture/import_graph.py``; run it as a script to print it).
``KNOWN_UPWARD`` and ``KNOWN_CYCLES`` list what the code still does against the rule: the test
fails on anything new, and on an entry that has been mended but not struck from the list, so the
lists can only shrink.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("import_graph", Path(__file__).with_name("import_graph.py"))
assert _spec is not None and _spec.loader is not None
import_graph = importlib.util.module_from_spec(_spec)
sys.modules["import_graph"] = import_graph
_spec.loader.exec_module(import_graph)

#: upward imports still in the code (each runs inside a function, so it works at run time).
KNOWN_UPWARD: set[tuple[str, str]] = set()

#: import cycles still in the code (broken at run time by function-level imports).
KNOWN_CYCLES: set[tuple[str, ...]] = set()


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph.import_graph()


def test_every_area_has_a_layer(graph):
    assert import_graph.unplaced(graph) == [], "give the new top-level module a layer in LAYERS"


def test_no_new_upward_import(graph):
    upward = set(import_graph.upward_imports(graph))
    assert upward - KNOWN_UPWARD == set(), "a lower layer imports a higher one"
    assert KNOWN_UPWARD - upward == set(), "mended: strike these from KNOWN_UPWARD"


def test_no_new_import_cycle(graph):
    found = {tuple(c) for c in import_graph.cycles(graph)}
    assert found - KNOWN_CYCLES == set(), "a new import cycle"
    assert KNOWN_CYCLES - found == set(), "mended: strike these from KNOWN_CYCLES"


def test_the_checker_sees_an_upward_import_and_a_cycle(tmp_path):
    pkg = tmp_path / "evalint"
    (pkg / "data").mkdir(parents=True)
    (pkg / "report").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "report" / "__init__.py").write_text("")
    (pkg / "data" / "a.py").write_text("def f():\n    from evalint.report.b import g\n")
    (pkg / "report" / "b.py").write_text("from ..data import a\n")
    g = import_graph.import_graph(pkg)
    assert import_graph.upward_imports(g) == [("evalint.data.a", "evalint.report.b")]
    assert g["evalint.report.b"] == {"evalint.data.a"}
