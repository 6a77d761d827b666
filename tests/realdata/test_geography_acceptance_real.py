"""Acceptance checks of evalint.geography with awkward but plausible input.

Expected numbers are computed here by hand from the ONS-derived population file
(population_icb_ltla/icb22_population_mye_2017_2019_2020.csv) with pandas/numpy and the monthly
rule of methods/geography.md (linear in time between 30 June anchors, a month read at its
midpoint), or from a pandas groupby of the trust -> ICB weights; never from evalint's own output.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalint.geography as geo
from evalint.errors import EvalintError, TimeParseError

pytestmark = pytest.mark.realdata

GM = "E54000057"   # NHS Greater Manchester ICB (ODS QOP)


def _hand_population(root, code: str, month: str) -> float:
    """The ONS total population of ICB ``code`` in ``month`` by the documented rule."""
    pop = pd.read_csv(root / "population_icb_ltla" / "icb22_population_mye_2017_2019_2020.csv")
    rows = pop[pop["icb22_code"] == code].sort_values("mid_year")
    anchors = np.array([np.datetime64(f"{y}-06-30") for y in rows["mid_year"]]).astype(float)
    p = pd.Period(month, "M")
    start = np.datetime64(p.start_time.date()).astype(float)
    end = np.datetime64(p.end_time.date()).astype(float)
    return float(np.interp((start + end + 1) / 2, anchors, rows["total_population"].to_numpy(float)))


@pytest.mark.parametrize("label", ["Jun-19", "June 2019", "01/06/2019", "15/06/2019"])
def test_nhs_month_labels_and_uk_dates_get_their_own_month(realdata_root, label):
    # before: 'Jun-19' was read as June of year 1 (the mid-2017 value, flagged extrapolated) and
    # '01/06/2019' as 6 January 2019
    out = geo.icb_population([label, "15/07/2019"] if "/" in label else [label], icbs=[GM])
    got = out.set_index("month").loc[pd.Period("2019-06", "M")]
    assert got["population"] == pytest.approx(_hand_population(realdata_root, GM, "2019-06"), rel=1e-12)
    assert not got["population_extrapolated"]


def test_add_population_reads_uk_dates_day_first(realdata_root):
    frame = pd.DataFrame({"icb": ["QOP", "QOP"], "month": ["01/06/2019", "01/12/2019"]})
    out = geo.add_population(frame, unit="icb")
    want = [_hand_population(realdata_root, GM, m) for m in ("2019-06", "2019-12")]
    assert out["population"].tolist() == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("months", [[2019], ["2019"], ["2019Q2"], [pd.Period("2019Q2", "Q")]])
def test_years_and_quarters_are_refused_not_given_one_months_population(realdata_root, months):
    # before: 2019 (an integer) was read as nanoseconds since 1970 -> January 1970's population;
    # '2019' as January 2019, '2019Q2' as April and a quarterly Period as June, all silently
    with pytest.raises(TimeParseError, match="month"):
        geo.icb_population(months, icbs=[GM])


def test_missing_month_is_refused_naming_the_column_and_row(realdata_root):
    frame = pd.DataFrame({"icb": ["QOP", "QOP"], "when": ["2019-06", None]}, index=[10, 11])
    # before: NaN population for row 11, no error or warning
    with pytest.raises(TimeParseError, match=r"'when'.*rows 11"):
        geo.add_population(frame, unit="icb", time="when")
    trusts = pd.DataFrame({"trust": ["R0A", "R0A"], "month": [pd.Timestamp("2022-04-01"), pd.NaT],
                           "y": [1.0, 2.0]})
    # before: a raw TypeError from building the duplicate-row message
    with pytest.raises(TimeParseError, match="'month'"):
        geo.trust_to_icb(trusts, "y")


def test_trust_to_icb_on_nhs_month_labels_matches_a_pandas_groupby(realdata_root):
    weights = geo.trust_icb_weights("activity")
    frame = pd.DataFrame({"trust": ["R0A", "R0D", "R0A", "R0D"],
                          "month": ["Apr-22", "Apr-22", "May-22", "May-22"],
                          "y": [100.0, 50.0, 120.0, 60.0]})
    out = geo.trust_to_icb(frame, "y").frame
    # before: 'Apr-22' became April of year 1, the frame spanned 0001-04 .. 0022-05
    assert out["month"].min() == pd.Period("2022-04", "M")
    assert out["month"].max() == pd.Period("2022-05", "M")
    hand = frame.assign(month=pd.PeriodIndex(["2022-04", "2022-04", "2022-05", "2022-05"], freq="M"))
    hand = hand.merge(weights, on="trust")
    hand = (hand["y"] * hand["weight"]).groupby([hand["icb22_code"], hand["month"]]).sum()
    got = out.set_index(["icb22_code", "month"])["y"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), hand.sort_index(), check_names=False)


def test_errors_are_typed(realdata_root):
    with pytest.raises(EvalintError):
        geo.icb_population(["not a month"], icbs=[GM])


def _trust_ae():
    from evalint.io import read_source

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tae = read_source("healthyr_trust_ae")
    frame = tae.rename(columns={"org_code": "trust", "period": "month"})
    return frame[["trust", "month", "total_emergency_admissions"]]


def test_trust_to_icb_does_not_depend_on_row_or_column_order(realdata_root):
    frame = _trust_ae()
    a = geo.trust_to_icb(frame, "total_emergency_admissions", unknown="drop", weights="catchment")
    shuffled = frame.sample(frac=1.0, random_state=3)[["total_emergency_admissions", "month", "trust"]]
    b = geo.trust_to_icb(shuffled, "total_emergency_admissions", unknown="drop", weights="catchment")
    # before: 401 ICB-months differed in the last bits (sums taken in the input's order)
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    # and the England total is the sum over the attributed trusts (weights sum to 1 per trust)
    kept = frame[~frame["trust"].isin(a.dropped_trusts)]
    england = kept.groupby(kept["month"].dt.to_period("M"))["total_emergency_admissions"].sum()
    got = a.frame.groupby("month")["total_emergency_admissions"].sum(min_count=1).dropna()
    assert got.index.equals(england.index)
    assert got.to_numpy() == pytest.approx(england.to_numpy(), rel=1e-12)


def test_trust_to_icb_refuses_infinite_counts(realdata_root):
    frame = pd.DataFrame({"trust": ["R0A", "R0A"], "month": ["2022-04", "2022-05"],
                          "y": [1.0, np.inf]}, index=[7, 8])
    # before: an infinite ICB value with no error
    with pytest.raises(EvalintError, match=r"'y'.*infinite.*row 8"):
        geo.trust_to_icb(frame, "y")


def test_successions_as_of_an_nhs_month_label(realdata_root):
    # RDZ (Royal Bournemouth and Christchurch) became R0D (University Hospitals Dorset) on
    # 1 October 2020 (ODS successor record). Before: 'Oct-20' was read as 20 October of year 1,
    # so no succession applied and RDZ came back unchanged
    assert geo.trust_successors("RDZ", as_of="Oct-20") == ["R0D"]
    assert geo.trust_successors("RDZ", as_of="Sep-20") == ["RDZ"]
    # before: read month-first as 10 January 2020, silently
    with pytest.raises(TimeParseError, match="day-first"):
        geo.trust_successors("RDZ", as_of="01/10/2020")


def test_harmonise_keeps_a_missing_trust_code_missing(realdata_root):
    frame = pd.DataFrame({"trust": [None, "RD3", "rdz "], "month": ["2020-04"] * 3, "y": [5.0, 20.0, 30.0]})
    out = geo.harmonise_trust_codes(frame)
    # before: the missing code became the text 'NAN', a trust nobody can find
    assert out["trust"].isna().tolist() == [True, False, False]
    assert out["trust"].iloc[1:].tolist() == ["R0D", "R0D"]
    combined = geo.harmonise_trust_codes(frame, time="month")
    # RD3 and RDZ summed into R0D (20 + 30); the uncoded row kept, not dropped by the groupby
    combined = combined.sort_values("y").reset_index(drop=True)
    assert combined["y"].tolist() == [5.0, 50.0]
    assert combined["trust"].isna().tolist() == [True, False]
    assert combined["trust"].iloc[1] == "R0D"


def _bcf_boards():
    return pd.DataFrame({"hwb": ["E06000001", "E06000002", "E06000003"],
                         "spend": [1000.0, 2000.0, 4000.0]})


def test_areas_to_icb_matches_a_pandas_groupby_and_refuses_a_repeated_area(realdata_root):
    boards = _bcf_boards()
    lookup = geo.utla_to_icb()
    hand = boards.merge(lookup, left_on="hwb", right_on="utla21_code")
    hand = (hand["spend"] * hand["share"]).groupby(hand["icb22_code"]).sum()
    got = geo.areas_to_icb(boards, "spend", area="hwb", level="utla21").set_index("icb22_code")["spend"]
    pd.testing.assert_series_equal(got.sort_index(), hand.sort_index(), check_names=False)
    # before: the repeated board was summed twice (spend 8,000 read as 9,000), no error
    with pytest.raises(EvalintError, match="E06000001"):
        geo.areas_to_icb(pd.concat([boards, boards.iloc[:1]]), "spend", area="hwb", level="utla21")


def test_areas_to_icb_refuses_missing_periods_and_text(realdata_root):
    frame = pd.DataFrame({"hwb": ["E06000001", "E06000002"], "year": [2022, None], "spend": [1.0, 2.0]})
    # before: the row with no year was dropped by the groupby, its spend lost without a word
    with pytest.raises(EvalintError, match="'year'"):
        geo.areas_to_icb(frame, "spend", area="hwb", level="utla21", time="year")
    text = _bcf_boards().astype({"spend": object})
    text.loc[1, "spend"] = "*"
    # before: a raw ValueError from pandas
    with pytest.raises(EvalintError, match=r"'spend'.*\*"):
        geo.areas_to_icb(text, "spend", area="hwb", level="utla21")


def test_add_population_does_not_overwrite_the_users_own_column(realdata_root):
    from evalint.errors import SpecificationError

    frame = pd.DataFrame({"icb": ["QOP"], "month": ["2019-06"], "population": [123.0]})
    # before: the user's column was replaced by the ONS one without a word
    with pytest.raises(SpecificationError, match="'population'.*column="):
        geo.add_population(frame, unit="icb")
    out = geo.add_population(frame, unit="icb", column="ons_population")
    assert out["population"].tolist() == [123.0]
    assert out["ons_population"].iloc[0] == pytest.approx(_hand_population(realdata_root, GM, "2019-06"))
    trusts = pd.DataFrame({"trust": ["RXN", None], "month": ["2019-06", "2019-06"]})
    # before: the missing code was looked up as the trust 'NAN'
    with pytest.raises(EvalintError, match="missing trust code"):
        geo.add_catchment_population(trusts)


def test_to_icb_vintage_keeps_totals_and_refuses_a_repeated_icb_month(realdata_root):
    codes = geo.icb_codes()
    # a toy 2022 -> 2026 lookup: the first ICB split 30/70 between two later ICBs, the rest whole
    lookup = pd.DataFrame({"icb22_code": [codes[0], codes[0], *codes[1:]],
                           "icb26_code": ["N1", "N2", *[f"W{i}" for i in range(1, 42)]],
                           "share": [0.3, 0.7, *[1.0] * 41]})
    frame = pd.DataFrame({"icb": codes, "month": "2023-01", "y": np.arange(1.0, 43.0)})
    out = geo.to_icb_vintage(frame, "y", icb="icb", time="month", lookup=lookup).set_index("icb_code")["y"]
    assert out["N1"] == pytest.approx(0.3) and out["N2"] == pytest.approx(0.7)
    assert out.sum() == pytest.approx(frame["y"].sum(), rel=1e-15)          # 903 = 42 x 43 / 2
    # before: the repeated ICB-month was moved twice (the total 903 read as 905)
    with pytest.raises(EvalintError, match=codes[1]):
        geo.to_icb_vintage(pd.concat([frame, frame.iloc[[1]]]), "y", icb="icb", time="month", lookup=lookup)
    text = frame.astype({"y": object})
    text.loc[5, "y"] = "*"
    # before: a raw ValueError from pandas
    with pytest.raises(EvalintError, match=r"'y'.*\*"):
        geo.to_icb_vintage(text, "y", icb="icb", time="month", lookup=lookup)
