"""Run every vignette end to end as a script, in fast mode (EVALINT_VIGNETTE_FAST=1).

A vignette that raises, or that prints a Python traceback, fails. Figures go to a temporary
folder through EVALINT_VIGNETTE_OUT. A vignette with a test file of its own
(``test_<vignette>.py`` beside this one, e.g. the real-data vignettes) is run there instead,
once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vignette_helpers import VIGNETTES_DIR, run_vignette

_OWN_TEST = {p.stem.removeprefix("test_") for p in Path(__file__).parent.glob("test_*.py")}
VIGNETTES = sorted(p for p in VIGNETTES_DIR.glob("*.py") if p.stem not in _OWN_TEST)


def test_there_are_vignettes():
    assert len(VIGNETTES) >= 2


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_runs(path: Path, tmp_path: Path):
    run_vignette(path, EVALINT_VIGNETTE_FAST="1", EVALINT_VIGNETTE_OUT=str(tmp_path))
