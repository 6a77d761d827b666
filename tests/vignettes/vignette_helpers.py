"""Running a vignette as a script and reading the ``CHECK key value`` lines it prints.

Shared by tests/vignettes: test_vignettes.py runs every vignette; the test_real_* files run
the real-data vignettes once each and compare their CHECK lines with outside facts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

VIGNETTES_DIR = Path(__file__).resolve().parents[2] / "vignettes"


def run_vignette(path: Path, **env: str) -> str:
    """Run ``path`` with ``python`` from the repository root; its standard output.

    Fails the calling test when the script exits non-zero, prints a traceback or prints nothing.
    """
    full_env = dict(os.environ, MPLBACKEND="Agg", **env)
    proc = subprocess.run([sys.executable, str(path)], cwd=path.parents[1], env=full_env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip(), f"{path.name} printed nothing"
    return proc.stdout


def check_line(output: str, key: str) -> str:
    """The value of the vignette's ``CHECK <key> <value>`` line."""
    match = re.search(rf"^CHECK {re.escape(key)} (.+)$", output, flags=re.M)
    assert match, f"no CHECK {key} line in the vignette output"
    return match.group(1)
