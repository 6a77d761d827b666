"""Run every vignette end to end as a script, in fast mode (EVALINT_VIGNETTE_FAST=1).

A vignette that raises, or that prints a Python traceback, fails. Figures go to a temporary
folder through EVALINT_VIGNETTE_OUT.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VIGNETTES = sorted((Path(__file__).resolve().parents[2] / "vignettes").glob("*.py"))


def test_there_are_vignettes():
    assert len(VIGNETTES) >= 2


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_runs(path: Path, tmp_path: Path):
    env = dict(os.environ, EVALINT_VIGNETTE_FAST="1", EVALINT_VIGNETTE_OUT=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(path)], cwd=path.parents[1], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip(), f"{path.name} printed nothing"
