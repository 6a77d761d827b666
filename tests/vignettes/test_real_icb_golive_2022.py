"""vignettes/real_icb_golive_2022.py reproduces NHS England's published England series.

``CHECK`` lines are compared with the "Total Emergency Admissions" column of NHS England's
Monthly A&E Time Series workbook (March 2024 edition) read here with plain pandas, and with the
figures quoted in shared/realdata/ae_england_monthly_timeseries/SOURCE.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.realdata
SCRIPT = Path(__file__).resolve().parents[2] / "vignettes" / "real_icb_golive_2022.py"


@pytest.fixture(scope="module")
def output(realdata_root) -> str:
    env = dict(os.environ, MPLBACKEND="Agg", EVALINT_REALDATA_DIR=str(realdata_root))
    proc = subprocess.run([sys.executable, str(SCRIPT)], cwd=SCRIPT.parents[1], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _check(output: str, key: str) -> str:
    m = re.search(rf"^CHECK {re.escape(key)} (.+)$", output, flags=re.M)
    assert m, f"no CHECK {key} line"
    return m.group(1)


@pytest.fixture(scope="module")
def series(realdata_root) -> pd.Series:
    g = pd.read_excel(realdata_root / "ae_england_monthly_timeseries" / "original"
                      / "Monthly-AE-Time-Series-March-2024.xls", sheet_name="Activity", header=None)
    hdr = g.index[g[1] == "Period"][0]
    col = list(g.iloc[hdr]).index("Total Emergency Admissions")
    body = g.iloc[hdr + 1:].dropna(subset=[1])
    return pd.Series(pd.to_numeric(body[col]).to_numpy(),
                     index=pd.to_datetime(body[1]).dt.to_period("M"))


def test_published_england_totals(output, series):
    assert int(_check(output, "months")) == len(series) == 164
    assert float(_check(output, "mean_2019")) == pytest.approx(series[series.index.year == 2019].mean(), abs=0.1)
    # SOURCE.md: 2019 mean 544,442; Jan 2019 564,035; Apr 2020 (COVID) 326,581; Mar 2024 567,174
    assert float(_check(output, "mean_2019")) == pytest.approx(544_442, abs=1)
    assert int(_check(output, "jan_2019")) == 564_035
    trough, when = _check(output, "trough").split()
    assert (int(trough), when) == (326_581, "2020-04") and series.idxmin() == pd.Period("2020-04", "M")
    peak, when = _check(output, "peak").split()
    assert (int(peak), when) == (int(series.max()), str(series.idxmax())) == (567_174, "2024-03")


def test_statements(output):
    assert "cannot be identified by DiD or synthetic control" in output
    result = re.search(r"^RESULT: (.+)$", output, flags=re.M).group(1)
    passed = int(_check(output, "checks_passed").split()[0])
    if passed < 3:
        assert result.startswith("No credible causal estimate")
    assert "admissions averted" not in result.replace("no cumulative 'admissions averted'", "")
