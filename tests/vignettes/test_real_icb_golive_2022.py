"""vignettes/real_icb_golive_2022.py reproduces NHS England's published England series.

``CHECK`` lines are compared with the "Total Emergency Admissions" column of NHS England's
Monthly A&E Time Series workbook (March 2024 edition) read here with plain pandas, and with the
figures quoted in shared/realdata/ae_england_monthly_timeseries/SOURCE.md.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from vignette_helpers import VIGNETTES_DIR, check_line, run_vignette

pytestmark = pytest.mark.realdata
SCRIPT = VIGNETTES_DIR / "real_icb_golive_2022.py"


@pytest.fixture(scope="module")
def output(realdata_root) -> str:
    return run_vignette(SCRIPT, EVALINT_REALDATA_DIR=str(realdata_root))



@pytest.fixture(scope="module")
def series(realdata_root) -> pd.Series:
    g = pd.read_excel(realdata_root / "ae_england_monthly_timeseries" / "original"
                      / "Monthly-AE-Time-Series-March-2024.xls", sheet_name="Activity", header=None,
                      engine="calamine")
    hdr = g.index[g[1] == "Period"][0]
    col = list(g.iloc[hdr]).index("Total Emergency Admissions")
    body = g.iloc[hdr + 1:].dropna(subset=[1])
    return pd.Series(pd.to_numeric(body[col]).to_numpy(),
                     index=pd.to_datetime(body[1]).dt.to_period("M"))


def test_published_england_totals(output, series):
    assert int(check_line(output, "months")) == len(series) == 164
    assert float(check_line(output, "mean_2019")) == pytest.approx(series[series.index.year == 2019].mean(), abs=0.1)
    # SOURCE.md: 2019 mean 544,442; Jan 2019 564,035; Apr 2020 (COVID) 326,581; Mar 2024 567,174
    assert float(check_line(output, "mean_2019")) == pytest.approx(544_442, abs=1)
    assert int(check_line(output, "jan_2019")) == 564_035
    trough, when = check_line(output, "trough").split()
    assert (int(trough), when) == (326_581, "2020-04") and series.idxmin() == pd.Period("2020-04", "M")
    peak, when = check_line(output, "peak").split()
    assert (int(peak), when) == (int(series.max()), str(series.idxmax())) == (567_174, "2024-03")


def test_statements(output):
    assert "cannot be identified by DiD or synthetic control" in output
    result = re.search(r"^RESULT: (.+)$", output, flags=re.M).group(1)
    passed = int(check_line(output, "checks_passed").split()[0])
    if passed < 3:
        assert result.startswith("No credible causal estimate")
    assert "admissions averted" not in result.replace("no cumulative 'admissions averted'", "")
