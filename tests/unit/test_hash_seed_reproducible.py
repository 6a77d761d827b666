"""Results do not depend on Python's string-hash seed (set iteration order).

The standardised difference of exposure between treated and comparison units summed the
units in the order of a frozenset, so its last bit changed with PYTHONHASHSEED; each run
below uses another hash seed and must print the same bits.
"""

import os
import subprocess
import sys

SCRIPT = """
import pandas as pd
from evalint.calendar.exposure import standardised_difference
from evalint.calendar.overlap_rules import _max_smd
units = [f"E5400{i:03d}" for i in range(42)]
expo = pd.Series([0.1 * (i % 7) + 1.0 / (i + 3) for i in range(42)], index=units)
groups = {"treated": frozenset(units[:9]), "comparison": frozenset(units[9:])}
print(repr(_max_smd(groups, expo, standardised_difference)))
"""


def test_exposure_difference_independent_of_hash_seed():
    outs = set()
    for seed in ("1", "2", "3", "4"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                             check=True)
        outs.add(run.stdout.strip())
    assert len(outs) == 1, outs
