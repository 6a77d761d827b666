"""Trust -> ICB aggregation checked against NHS England's own ICB rows.

Outside facts (never evalint output): the published ICB ("system level") rows in
healthyr_nhse_uec (A&E emergency admissions, Apr 2022 - Jul 2025; patients not meeting the
criteria to reside, daily, Apr 2022 - Aug 2025), the England "Total Emergency Admissions" of
the NHS England monthly A&E time series (March 2024 edition), and the trust rows themselves.

Stated tolerances:
- emergency admissions, ``weights="host"``: at least 97% of the 1,680 ICB-months equal the
  published row exactly, and every ICB-month within 2% (the rest are a few trust-months NHS
  England grouped differently in Lincolnshire and North East and North Cumbria);
- criteria to reside (patient-days per month), ``"host"``: at least 99% of ICB-months exact
  outside the Harrogate cells (below) and England within 0.3% every month;
- from June 2023 NHS England counts Harrogate (RCD) under West Yorkshire in its sitrep ICB rows
  (its host, Humber and North Yorkshire, in A&E): the gap is exactly RCD's series;
- every attribution preserves the England total: sum over ICBs = sum over trusts (to 1e-6),
  which is within 0.2% of NHS England's England total every month Apr 2022 - Feb 2024 (-0.1%
  in Apr and Jun 2023: file vintages).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalint.geography as geo
from evalint.errors import DuplicateRowsError, MissingValuesError, NonNumericError

pytestmark = pytest.mark.realdata

EA = "total_emergency_admissions"
NCTR = "do_not_meet_criteria_to_reside"


def _monthly(frame: pd.DataFrame, fmt: str | None = None) -> pd.DataFrame:
    out = frame.copy()
    out["month"] = pd.PeriodIndex(pd.to_datetime(out["date"], format=fmt), freq="M")
    return out


@pytest.fixture(scope="module")
def ae(realdata_root):
    folder = realdata_root / "healthyr_nhse_uec"
    trust = _monthly(pd.read_csv(folder / "england_trust_accidents_emergency.csv"), "%B %Y")
    icb = _monthly(pd.read_csv(folder / "england_icb_accidents_emergency.csv"), "%B %Y")
    return trust, icb


@pytest.fixture(scope="module")
def nctr(realdata_root):
    folder = realdata_root / "healthyr_nhse_uec"
    trust = _monthly(pd.read_csv(folder / "england_trust_criteria_to_reside.csv"))
    icb = _monthly(pd.read_csv(folder / "england_icb_criteria_to_reside.csv"))
    trust_m = trust.groupby(["nhs_trust22_code", "month"], as_index=False)[NCTR].sum(min_count=1)
    icb_m = icb.groupby(["icb22_code", "month"], as_index=False)[NCTR].sum()
    return trust, trust_m, icb_m


def test_host_attribution_reproduces_published_icb_emergency_admissions(ae):
    trust, icb = ae
    trust = trust[trust["month"] >= pd.Period("2022-04", "M")]
    before = trust.copy()
    agg = geo.trust_to_icb(trust, EA, trust="nhs_trust22_code", weights="host")
    pd.testing.assert_frame_equal(trust, before)
    both = agg.frame.merge(icb[["icb22_code", "month", EA]], on=["icb22_code", "month"],
                           suffixes=("", "_pub"))
    assert len(both) == 1680
    ratio = both[EA] / both[f"{EA}_pub"]
    assert (both[EA] == both[f"{EA}_pub"]).mean() >= 0.97
    assert (ratio - 1).abs().max() <= 0.02


@pytest.mark.parametrize("basis", geo.WEIGHT_BASES)
def test_every_attribution_preserves_the_england_total(ae, basis, realdata_root):
    trust, _ = ae
    harmonised = geo.harmonise_trust_codes(trust.drop(columns="date"), "nhs_trust22_code",
                                           time="month", splits={"RW6": "RM3"})
    agg = geo.trust_to_icb(harmonised, EA, trust="nhs_trust22_code", weights=basis)
    england = agg.frame.groupby("month")[EA].sum()
    by_trust = trust.groupby("month")[EA].sum()
    assert np.allclose(england.to_numpy(), by_trust.reindex(england.index).to_numpy(), atol=1e-6)
    series = pd.read_csv(realdata_root / "ae_england_monthly_timeseries" / "england_ae_activity_monthly.csv")
    published = series.set_index(pd.PeriodIndex(pd.to_datetime(series["Period"]), freq="M"))[
        "Emergency Admissions | Total Emergency Admissions"]
    window = pd.period_range("2022-04", "2024-02", freq="M")
    ratio = england.reindex(window) / published.reindex(window)
    assert ratio.notna().all()
    assert (ratio - 1).abs().max() <= 0.002


def test_host_attribution_reproduces_published_icb_criteria_to_reside(nctr):
    _, trust_m, icb_m = nctr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows with no trust code in 2025 are dropped
        agg = geo.trust_to_icb(trust_m, NCTR, trust="nhs_trust22_code", weights="host",
                               unknown="drop")
    both = agg.frame.merge(icb_m, on=["icb22_code", "month"], suffixes=("", "_pub"))
    harrogate_cells = both["icb22_code"].isin(["E54000051", "E54000054"]) & (
        both["month"] >= pd.Period("2023-06", "M"))
    exact = np.isclose(both[NCTR], both[f"{NCTR}_pub"], rtol=0, atol=1e-9)
    assert exact[~harrogate_cells].mean() >= 0.99
    england = both.groupby("month")[[NCTR, f"{NCTR}_pub"]].sum()
    assert (england[NCTR] / england[f"{NCTR}_pub"] - 1).abs().max() <= 0.003


def test_harrogate_is_grouped_under_west_yorkshire_in_sitrep_icb_rows_from_june_2023(nctr):
    trust, _, _ = nctr
    icb = pd.read_csv(geo_path("england_icb_criteria_to_reside.csv"))
    icb = icb[icb["date"] >= "2023-06-01"]
    trust = trust[trust["date"] >= "2023-06-01"].dropna(subset=["nhs_trust22_code"])
    host = geo.trust_main_icb(basis="host")
    assert host["RCD"] == "E54000051"
    wy_trusts = host.index[host == "E54000054"]
    ours = trust[trust["nhs_trust22_code"].isin(wy_trusts)].groupby("date")[NCTR].sum()
    published = icb[icb["icb22_code"] == "E54000054"].set_index("date")[NCTR]
    rcd = trust[trust["nhs_trust22_code"] == "RCD"].set_index("date")[NCTR]
    gap = (published - ours).dropna()
    assert len(gap) > 700
    assert (gap == rcd.reindex(gap.index)).all()


def geo_path(name: str):
    from evalint.datasets.realdata import realdata_path

    return realdata_path("healthyr_nhse_uec", name)


def test_coverage_flags_the_trusts_missing_from_the_2021_rows(ae):
    trust, _ = ae
    harmonised = geo.harmonise_trust_codes(trust.drop(columns="date"), "nhs_trust22_code",
                                           time="month", splits={"RW6": "RM3"})
    agg = geo.trust_to_icb(harmonised, EA, trust="nhs_trust22_code", weights="activity")
    cov = agg.coverage_table()
    assert ((cov >= 0) & (cov <= 1)).all().all()
    # R0D (Dorset), RA7 (Bristol), RK9 (Plymouth) first report in September 2021 (SOURCE.md:
    # predecessor codes dropped at source), so their ICBs are short of their usual volume before
    assert cov.loc["E54000041", pd.Period("2021-04", "M")] < 0.5   # Dorset
    assert cov.loc["E54000039", pd.Period("2021-08", "M")] < 0.8   # Bristol, N Somerset, S Glos
    assert cov.loc["E54000041", pd.Period("2021-09", "M")] == pytest.approx(1.0)
    # from April 2022 every trust reports until the 2023-2025 mergers, which harmonising absorbs
    settled = cov.loc[:, pd.Period("2022-04", "M"):pd.Period("2024-12", "M")]
    assert settled.min().min() > 0.99
    low = agg.low_coverage(0.95)
    assert set(low["month"]) <= set(pd.period_range("2021-04", "2021-08", freq="M")) | {
        pd.Period(m, "M") for m in ("2025-01", "2025-04", "2025-05", "2025-06", "2025-07")}


def test_bad_trust_frames_raise_typed_errors_naming_the_fault():
    base = pd.DataFrame({"trust": ["R0A", "R0A", "RM3"], "month": ["2022-01", "2022-02", "2022-01"],
                         "n": [1.0, 2.0, 3.0]})
    with pytest.raises(DuplicateRowsError, match="R0A 2022-01"):
        geo.trust_to_icb(base.assign(month=["2022-01", "2022-01", "2022-01"]), "n")
    with pytest.raises(geo.UnknownCodeError, match="RDZ.*harmonise_trust_codes"):
        geo.trust_to_icb(base.assign(trust=["R0A", "R0A", "RDZ"]), "n")
    with pytest.warns(Warning, match="RDZ"):
        out = geo.trust_to_icb(base.assign(trust=["R0A", "R0A", "RDZ"]), "n", unknown="drop")
    assert out.dropped_trusts == ["RDZ"]
    with pytest.raises(NonNumericError, match="'n'"):
        geo.trust_to_icb(base.assign(n=["1", "x", "3"]), "n")
    with pytest.raises(MissingValuesError, match="trust"):
        geo.trust_to_icb(base.assign(trust=["R0A", None, "RM3"]), "n")
    with pytest.raises(geo.UnsupportedVintageError):
        geo.trust_to_icb(base, "n", vintage="2026")
