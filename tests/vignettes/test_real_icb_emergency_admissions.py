"""vignettes/real_icb_emergency_admissions.py reproduces published totals.

The vignette prints ``CHECK`` lines; this test compares them with outside facts read here with
plain pandas from shared/realdata: NHS England's England "Total Emergency Admissions" (A&E time
series, March 2024 edition), the sum over NHS England's trust rows, and NHS England's ICB rows.
Tolerances: ICB-months at least 97% exactly equal to the published ICB rows and all within 2%;
England within 0.2% of the time series (file vintages differ by up to 0.1%), and equal to the
sum over trusts.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from vignette_helpers import VIGNETTES_DIR, check_line, run_vignette

pytestmark = pytest.mark.realdata
SCRIPT = VIGNETTES_DIR / "real_icb_emergency_admissions.py"


@pytest.fixture(scope="module")
def output(realdata_root) -> str:
    return run_vignette(SCRIPT, EVALINT_REALDATA_DIR=str(realdata_root))



def test_published_icb_rows_are_reproduced(output, realdata_root):
    published = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv")
    # 42 ICBs x 40 months, less the two months the source copied from 2024
    assert int(check_line(output, "icb_months_compared")) == len(published) - 2 * 42
    assert float(check_line(output, "icb_months_exact_share")) >= 0.97
    assert float(check_line(output, "icb_months_max_abs_pct_diff")) <= 2.0


@pytest.mark.parametrize("month", ["2023-01", "2024-01"])
def test_england_totals_are_reproduced(output, realdata_root, month):
    line = check_line(output, f"england_{month}")
    ours = float(re.search(r"sum_over_icbs=(\d+)", line).group(1))
    shown = float(re.search(r"england_timeseries=(\d+)", line).group(1))
    series = pd.read_csv(realdata_root / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
    england = series.loc[series["Period"] == f"{month}-01",
                         "Emergency Admissions | Total Emergency Admissions"].iloc[0]
    assert shown == england
    assert abs(ours / england - 1) <= 0.002
    trusts = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_trust_accidents_emergency.csv")
    label = pd.Timestamp(f"{month}-01").strftime("%B %Y")
    assert ours == trusts.loc[trusts["date"] == label, "total_emergency_admissions"].sum()


def test_the_design_ran_on_the_42_icbs(output):
    assert "24 newer-system ICBs vs 18 mature ones" in output
    assert "DiD (Callaway-Sant'Anna)" in output
