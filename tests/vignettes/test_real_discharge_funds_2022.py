"""vignettes/real_discharge_funds_2022.py reproduces published figures.

The vignette prints ``CHECK`` lines; this test recomputes the same quantities with plain
pandas/openpyxl from NHS England's published files in shared/realdata (no evalint reader) and
compares. Tolerances: England monthly means to 0.1 patients; the sum over NHS England's ICB
rows (healthyr copy) within 2% of the England row (trust and ICB rows exclude hospice
discharges; vintages differ), and equal to the recomputed ratios; BCF mapped to ICBs = the
table's HWB total to GBP 1 (population shares sum to one).
"""

from __future__ import annotations


import pandas as pd
import pytest
from vignette_helpers import VIGNETTES_DIR, check_line, run_vignette

pytestmark = pytest.mark.realdata
SCRIPT = VIGNETTES_DIR / "real_discharge_funds_2022.py"


@pytest.fixture(scope="module")
def output(realdata_root) -> str:
    return run_vignette(SCRIPT, EVALINT_REALDATA_DIR=str(realdata_root))



@pytest.fixture(scope="module")
def england(realdata_root) -> pd.DataFrame:
    g = pd.read_excel(realdata_root / "discharge_sitrep_acute" / "original" / "latest_time_series.xlsx",
                      sheet_name="Daily Series", header=None, engine="openpyxl")
    hdr = g.index[g[1] == "Date"][0]
    body = g.iloc[hdr + 1:, 1:5].dropna(subset=[1])
    body.columns = ["date", "nctr", "discharged", "remaining"]
    body["date"] = pd.to_datetime(body["date"])
    for c in ("nctr", "discharged", "remaining"):
        body[c] = pd.to_numeric(body[c])
    return body


def test_england_figures(output, england):
    monthly = england.groupby(england["date"].dt.to_period("M"))["remaining"].mean()
    assert float(check_line(output, "england_remaining_2023-01")) == pytest.approx(monthly["2023-01"], abs=0.1)
    assert float(check_line(output, "england_remaining_2021-04")) == pytest.approx(monthly["2021-04"], abs=0.1)
    # published: 13,965 a day in January 2023, peak 14,789 on 7 January 2023 (SOURCE.md)
    assert monthly["2023-01"] == pytest.approx(13_965, abs=0.5)
    value, day = check_line(output, "england_winter_peak").split()
    assert (int(value), day) == (14_789, "2023-01-07")


def test_icb_rows_sum_to_england(output, england, realdata_root):
    icb = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_icb_criteria_to_reside.csv")
    icb["date"] = pd.to_datetime(icb["date"])
    icb["month"] = icb["date"].dt.to_period("M")
    # months in which every ICB reported a non-zero value every day
    ok = icb.groupby("month")["do_not_meet_criteria_to_reside"].apply(lambda s: bool((s > 0).all()))
    days = icb.groupby(["month", "icb22_code"]).size().groupby("month").min()
    full = [m for m in ok.index if ok[m] and days[m] == m.days_in_month]
    s = icb.groupby(["month", "icb22_code"])["do_not_meet_criteria_to_reside"].mean().groupby("month").sum()
    e = england.groupby(england["date"].dt.to_period("M"))["nctr"].mean()
    common = [m for m in full if m in e.index]
    ratio = s[common] / e[common]
    assert int(check_line(output, "icb_sum_months")) == len(common) >= 8
    assert float(check_line(output, "icb_sum_over_england_min")) == pytest.approx(ratio.min(), abs=1e-4)
    assert float(check_line(output, "icb_sum_over_england_max")) == pytest.approx(ratio.max(), abs=1e-4)
    assert 0.98 <= ratio.min() and ratio.max() <= 1.02


def test_bcf_mapped_total(output, realdata_root):
    bcf = pd.read_csv(realdata_root / "bcf_2022_23_intermediate_care_la" / "BCF.csv")
    bcf = bcf.loc[bcf["Code"] != "Total"]
    both = (bcf["Bed based intermediate Care Services"] + bcf["Reablement in a persons own home"]).sum()
    assert float(check_line(output, "bcf_table_gbp")) == pytest.approx(both, abs=1)
    assert float(check_line(output, "bcf_mapped_gbp")) == pytest.approx(both, abs=1)


def test_conclusion_is_stated(output):
    assert "no credible causal estimate" in output
    assert "co-timed" in output
