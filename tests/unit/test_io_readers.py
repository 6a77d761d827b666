"""Tests for evalint.io: NHS A&E monthly CSVs, the acute discharge sitrep, A&E panels.

Expected numbers come from the fixture files in tests/data/io (written by hand in the
published layouts; the arithmetic is spelled out here) or are computed directly with pandas
from the raw reference file, independently of the readers.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalint.errors import (
    ColumnNotFoundError,
    DataError,
    DroppedRowsWarning,
    DuplicateRowsError,
    GapError,
    InvalidValueError,
    NonNumericError,
    SpecificationError,
    TimeParseError,
)
from evalint.io import (
    FLOWS,
    STOCKS,
    CombinedCodesWarning,
    InconsistentTotalsWarning,
    MissingValuesWarning,
    ae_attendances_panel,
    aggregate_to_month,
    build_ae_panel,
    combine_org_codes,
    normalise_header,
    panel_coverage,
    parse_msitae_period,
    read_ae_monthly,
    read_discharge_sitrep,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "io"
MARCH = DATA / "ae_monthly_2026-03.csv"
APRIL = DATA / "ae_monthly_2026-04_variants.csv"
MARCH_REVISED = DATA / "ae_monthly_2026-03_revised.csv"
MISSING_COL = DATA / "ae_monthly_missing_column.csv"
SITREP_2022 = DATA / "discharge_sitrep_2022-06_four_columns.csv"
SITREP_2023 = DATA / "discharge_sitrep_2023-03_three_columns.csv"


def _read(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = args[0](*args[1:], **kwargs)
    return out, caught


def _of(caught, cls):
    return [w for w in caught if issubclass(w.category, cls)]


# ------------------------------------------------------------------ header matching
@pytest.mark.parametrize("variant, published", [
    ("  patients who have waited 4-12 HS from dta to admission ",
     "Patients who have waited 4-12 hrs from DTA to admission"),
    ("Number of A&E attendances Type 2", "A&E attendances Type 2"),
    ("Other Emergency Admissions (i.e not via A&E)", "Other Emergency Admissions (ie not via A&E)"),
    ("A&E attendances\u00a0 Other A&E Department", "A&E attendances Other A&E Department"),
    ("Emergency admissions via A&E – Type 1", "Emergency admissions via A&E - Type 1"),
])
def test_header_variants_normalise_alike(variant, published):
    assert normalise_header(variant) == normalise_header(published)


def test_distinct_headers_stay_distinct():
    assert normalise_header("Patients who have waited 4-12 hs from DTA to admission") != \
        normalise_header("Patients who have waited 12+ hrs from DTA to admission")
    assert normalise_header("Number of patients discharged") != \
        normalise_header("Number of patients discharged by 17:00")


@pytest.mark.parametrize("text, year, month", [
    ("MSitAE-MARCH-2026", 2026, 3), ("msitae-april-2026", 2026, 4), (" MSitAE - SEP - 2019 ", 2019, 9),
    ("March 2026", 2026, 3), ("2026-03", 2026, 3), ("2026-03-01", 2026, 3),
])
def test_parse_msitae_period(text, year, month):
    assert parse_msitae_period(text) == pd.Timestamp(year, month, 1)


@pytest.mark.parametrize("text", ["TOTAL", "MSitAE-SMARCH-2026", "2026-13", ""])
def test_parse_msitae_period_rejects(text):
    assert parse_msitae_period(text) is None


# ------------------------------------------------------------------ A&E monthly: one file
def test_march_file_values_whitespace_and_totals():
    df, caught = _read(read_ae_monthly, MARCH)
    # one TOTAL row (Parent Org 'TOTAL   ') dropped, counted
    dropped = _of(caught, DroppedRowsWarning)
    assert len(dropped) == 1 and "Dropped 1 TOTAL" in str(dropped[0].message)
    assert df.attrs["evalint_io"]["dropped_total_rows"] == 1
    assert sorted(df["org_code"]) == ["NCC", "RAA", "RBB"]
    assert (df["period"] == pd.Timestamp("2026-03-01")).all()
    # stray whitespace stripped
    assert set(df["parent_org"]) == {"NHS ENGLAND LONDON", "NHS ENGLAND MIDLANDS"}
    assert "BETA UNIVERSITY HOSPITALS NHS FOUNDATION TRUST" in set(df["org_name"])
    raa = df.set_index("org_code").loc["RAA"]
    assert raa["attendances_type1"] == 12000
    assert raa["attendances_total"] == 12000 + 0 + 3000 + 100 + 0 + 50
    assert raa["over_4hrs_total"] == 3000 + 0 + 60 + 10 + 0 + 5
    assert raa["dta_4_12hrs"] == 900 and raa["dta_12plus_hrs"] == 150
    assert raa["emergency_admissions_via_ae_total"] == 2500 + 0 + 20
    assert raa["emergency_admissions_total"] == 2500 + 0 + 20 + 1500
    assert raa["performance_4hr"] == pytest.approx(1 - 3075 / 15150)
    rbb = df.set_index("org_code").loc["RBB"]
    assert rbb["emergency_admissions_total"] == 1900 + 30 + 0 + 800


def test_dash_and_blank_are_missing_and_reported_never_zero():
    df, caught = _read(read_ae_monthly, MARCH)
    ncc = df.set_index("org_code").loc["NCC"]
    assert np.isnan(ncc["attendances_type2"]) and np.isnan(ncc["over_4hrs_type2"])
    assert np.isnan(ncc["other_emergency_admissions"])
    # totals built from a missing part are missing
    assert np.isnan(ncc["attendances_total"]) and np.isnan(ncc["emergency_admissions_total"])
    assert ncc["emergency_admissions_via_ae_total"] == 0
    miss = _of(caught, MissingValuesWarning)
    assert len(miss) == 1 and "3 missing cell(s)" in str(miss[0].message)
    assert df.attrs["evalint_io"]["missing"] == {
        "attendances_type2": 1, "over_4hrs_type2": 1, "other_emergency_admissions": 1}


def test_missing_skip_adds_present_parts():
    df, _ = _read(read_ae_monthly, MARCH, missing="skip")
    ncc = df.set_index("org_code").loc["NCC"]
    assert ncc["attendances_total"] == 0 + 2500 + 0 + 0 + 0
    assert np.isnan(ncc["attendances_type2"])  # the cell itself stays missing


def test_keep_totals_flags_the_total_row():
    df, caught = _read(read_ae_monthly, MARCH, keep_totals=True)
    assert not _of(caught, DroppedRowsWarning)
    tot = df.loc[df["is_total"]]
    assert len(tot) == 1 and tot["org_code"].iat[0] == "TOTAL"
    assert tot["attendances_type1"].iat[0] == 20000


# ------------------------------------------------------------------ A&E monthly: several files
def test_two_months_with_header_variants():
    df, caught = _read(read_ae_monthly, [MARCH, APRIL])
    assert df.attrs["evalint_io"]["dropped_total_rows"] == 2  # Parent Org TOTAL and Period TOTAL
    apr = df.loc[df["period"] == pd.Timestamp("2026-04-01")].set_index("org_code")
    assert sorted(apr.index) == ["RAA", "RBB"]
    assert apr.loc["RBB", "attendances_type1"] == 7900          # "7,900" in the file
    assert apr.loc["RBB", "attendances_type2"] == 380           # "Number of A&E attendances Type 2"
    assert apr.loc["RAA", "dta_4_12hrs"] == 850                 # "4-12 hrs" spelling
    assert apr.loc["RBB", "parent_org"] == "NHS ENGLAND MIDLANDS"
    # the April file has no booked-appointment columns: not collected, so NaN and not counted
    assert np.isnan(apr.loc["RAA", "attendances_booked_type1"])
    assert apr.loc["RAA", "attendances_total"] == 11500 + 0 + 2900
    assert df.attrs["evalint_io"]["missing"] == {
        "attendances_type2": 1, "over_4hrs_type2": 1, "other_emergency_admissions": 1}
    # published "Total emergency admissions" agrees with via A&E + other here: no warning
    assert not _of(caught, InconsistentTotalsWarning)
    assert apr.loc["RAA", "emergency_admissions_total"] == 3865 == 2400 + 0 + 15 + 1450


def test_duplicate_org_month_across_files_raises():
    with pytest.raises(DuplicateRowsError, match=r"RAA 2026-03 in ae_monthly_2026-03\.csv, "
                                                 r"ae_monthly_2026-03_revised\.csv"):
        _read(read_ae_monthly, [MARCH, MARCH_REVISED])


def test_missing_required_column_names_it_and_lists_found():
    with pytest.raises(ColumnNotFoundError) as err:
        read_ae_monthly(MISSING_COL)
    msg = str(err.value)
    assert "'Attendances over 4hrs Type 1'" in msg and "over_4hrs_type1" in msg
    assert "Headers found:" in msg and "'Attendances over 4hrs Type 2'" in msg


def test_england_level_uses_published_totals():
    df, _ = _read(read_ae_monthly, [MARCH, APRIL], level="england")
    assert list(df["period"]) == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-04-01")]
    assert (df["england_source"] == "published_total").all()
    assert list(df["attendances_type1"]) == [20000, 19400]
    assert df["attendances_total"].iat[0] == 20000 + 400 + 5500 + 100 + 0 + 50
    assert df["emergency_admissions_total"].iat[1] == 6533


def test_england_level_sums_providers_without_total_row():
    raw = pd.read_csv(MARCH, dtype=str, keep_default_na=False)
    no_total = raw.loc[raw["Parent Org"].str.strip() != "TOTAL"]
    df, _ = _read(read_ae_monthly, no_total, level="england")
    assert df["england_source"].iat[0] == "sum_of_providers"
    assert df["attendances_type1"].iat[0] == 12000 + 8000 + 0
    assert np.isnan(df["attendances_type2"].iat[0])  # NCC's '-' makes the strict sum missing
    df2, _ = _read(read_ae_monthly, no_total, level="england", missing="skip")
    assert df2["attendances_type2"].iat[0] == 0 + 400


def _frame(**changes):
    raw = pd.read_csv(MARCH_REVISED, dtype=str, keep_default_na=False)
    for col, value in changes.items():
        raw[col] = value
    return raw


def test_total_rows_hidden_under_a_month_label_are_dropped():
    a = _frame()
    b = _frame(**{"Org Code": "TOTAL"})
    df, caught = _read(read_ae_monthly, pd.concat([a, b], ignore_index=True))
    assert list(df["org_code"]) == ["RAA"]
    assert "Dropped 1 TOTAL" in str(_of(caught, DroppedRowsWarning)[0].message)


def test_bad_cells_raise_typed_errors():
    with pytest.raises(NonNumericError, match="A&E attendances Type 1"):
        read_ae_monthly(_frame(**{"A&E attendances Type 1": "twelve"}))
    with pytest.raises(InvalidValueError, match="negative"):
        read_ae_monthly(_frame(**{"Other emergency admissions": "-5"}))
    with pytest.raises(TimeParseError, match="Period"):
        read_ae_monthly(_frame(Period="Q1 2026"))
    dup_header = _frame()
    dup_header["a&e ATTENDANCES type 1"] = "1"
    with pytest.raises(DataError, match="both mean 'attendances_type1'"):
        read_ae_monthly(dup_header)
    with pytest.raises(SpecificationError):
        read_ae_monthly(MARCH, level="region")
    with pytest.raises(SpecificationError, match="does not exist"):
        read_ae_monthly(DATA / "no_such_file.csv")


def test_published_total_emergency_admissions_disagreeing_warns():
    raw = pd.read_csv(APRIL, dtype=str, keep_default_na=False)
    raw.loc[0, "Total emergency admissions"] = "3900"
    df, caught = _read(read_ae_monthly, raw)
    assert len(_of(caught, InconsistentTotalsWarning)) == 1
    assert df.set_index("org_code").loc["RAA", "emergency_admissions_total"] == 3900


def test_ae_monthly_frame_builds_a_panel():
    df, _ = _read(read_ae_monthly, [MARCH, APRIL], missing="skip")
    panel, _ = _read(build_ae_panel, df, outcome="emergency_admissions_total", keep="all")
    assert panel.n_units == 3 and panel.n_periods == 2
    assert panel.missing_cells().shape[0] == 1  # NCC not in the April file


# ------------------------------------------------------------------ discharge sitrep
def test_sitrep_four_column_layout():
    df, caught = _read(read_discharge_sitrep, SITREP_2022, level="all")
    assert sorted(df["org_code"].unique()) == ["ENGLAND", "RAA", "RBB"]
    assert set(df["level"]) == {"england", "trust"}
    raa = df.loc[df["org_code"] == "RAA"].set_index("date")
    d18, d20 = pd.Timestamp("2022-06-18"), pd.Timestamp("2022-06-20")
    assert raa.loc[d18, "nctr_patients"] == 12 and raa.loc[d18, "nctr_remaining_patients"] == 8
    assert raa.loc[d18, "discharged_by_1700"] == 3 and raa.loc[d18, "discharged_1701_2359"] == 1
    assert raa.loc[d18, "discharged_patients"] == 3 + 1
    assert raa.loc[d20, "discharged_patients"] == 4 + 2
    rbb = df.loc[df["org_code"] == "RBB"].iloc[0]
    assert rbb["region"] == "LONDON"
    assert rbb["org_name"] == "BETA UNIVERSITY HOSPITALS NHS FOUNDATION TRUST"
    # 19 June 2022: trusts '-', England 0 -> NaN kept, the lost day reported
    assert raa.loc[pd.Timestamp("2022-06-19"), ["nctr_patients"]].isna().all()
    eng = df.loc[df["org_code"] == "ENGLAND"].set_index("date")
    # the England row printed 0 on the lost day: a zero-filled missing value, set to NaN
    assert np.isnan(eng.loc[pd.Timestamp("2022-06-19"), "nctr_patients"])
    assert df.attrs["evalint_io"]["zero_filled_rows_set_missing"] == 1
    assert df.attrs["evalint_io"]["days_without_data"] == ["2022-06-19"]
    msg = str(_of(caught, MissingValuesWarning)[0].message)
    assert "10 missing cell(s)" in msg and "2022-06-19" in msg


def test_sitrep_three_column_layout_with_icb_section():
    df, _caught = _read(read_discharge_sitrep, SITREP_2023, level="all")
    levels = df.drop_duplicates("org_code").set_index("org_code")["level"].to_dict()
    assert levels == {"ENGLAND": "england", "QE1": "icb", "RAA": "trust", "RBB": "trust"}
    rbb = df.loc[df["org_code"] == "RBB"].set_index("date")
    assert rbb.loc[pd.Timestamp("2023-03-01"), "discharged_patients"] == 15
    assert np.isnan(rbb.loc[pd.Timestamp("2023-03-02"), "discharged_patients"])  # blank cell
    assert df["discharged_by_1700"].isna().all()  # not in this layout
    assert df.attrs["evalint_io"]["missing"] == {"discharged_patients": 1}


def test_sitrep_level_filter_warns_with_counts():
    df, caught = _read(read_discharge_sitrep, SITREP_2023)
    assert set(df["level"]) == {"trust"} and len(df) == 2 * 2
    msg = str(_of(caught, DroppedRowsWarning)[0].message)
    assert "dropped 4 organisation-day row(s)" in msg and "england: 2" in msg and "icb: 2" in msg
    icb, _ = _read(read_discharge_sitrep, SITREP_2023, level="icb")
    assert list(icb["org_code"].unique()) == ["QE1"]


def test_sitrep_duplicate_days_across_files_raise():
    with pytest.raises(DuplicateRowsError, match="RAA|ENGLAND"):
        _read(read_discharge_sitrep, [SITREP_2022, SITREP_2022])


def _grid(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    width = max(map(len, rows))
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows])


def test_sitrep_missing_measure_and_dates_raise():
    grid = _grid(SITREP_2023)
    no_nctr = grid.replace("Number of patients who no longer meet the criteria to reside",
                           "Patients in hospital")
    with pytest.raises(ColumnNotFoundError, match="criteria to reside"):
        read_discharge_sitrep(no_nctr)
    no_dates = grid.copy()
    no_dates.iloc[2] = ""
    with pytest.raises(TimeParseError, match="dates"):
        read_discharge_sitrep(no_dates)
    no_discharge = grid.replace("Number of patients discharged", "Something else")
    with pytest.raises(ColumnNotFoundError, match="discharged"):
        read_discharge_sitrep(no_discharge)


def _daily_month(days_missing=()):
    dates = pd.date_range("2023-02-01", "2023-02-28", freq="D")
    nctr = np.arange(1, 29, dtype=float)            # mean = 14.5
    remaining = np.full(28, 10.0)
    discharged = np.full(28, 2.0)                   # 56 in February
    frame = pd.DataFrame({"date": dates, "region": "R", "org_code": "RAA", "org_name": "A",
                          "level": "trust", "nctr_patients": nctr,
                          "discharged_patients": discharged, "discharged_by_1700": np.nan,
                          "discharged_1701_2359": np.nan, "nctr_remaining_patients": remaining})
    for d in days_missing:
        frame.loc[frame["date"] == pd.Timestamp(d), ["nctr_patients", "discharged_patients"]] = np.nan
    return frame


def test_aggregate_to_month_stocks_mean_flows_sum():
    assert set(STOCKS) == {"nctr_patients", "nctr_remaining_patients"}
    assert "discharged_patients" in FLOWS
    out, caught = _read(aggregate_to_month, _daily_month())
    row = out.iloc[0]
    assert row["period"] == pd.Timestamp("2023-02-01") and row["days_in_month"] == 28
    assert row["days_reported"] == 28
    assert row["nctr_patients"] == pytest.approx(14.5)
    assert row["nctr_remaining_patients"] == 10
    assert row["discharged_patients"] == 56
    assert not _of(caught, MissingValuesWarning)


def test_aggregate_to_month_incomplete_months():
    daily = _daily_month(days_missing=["2023-02-28"])
    out, caught = _read(aggregate_to_month, daily)
    row = out.iloc[0]
    assert row["days_reported"] == 27
    assert row["nctr_patients"] == pytest.approx(sum(range(1, 28)) / 27)
    assert np.isnan(row["discharged_patients"])
    assert "1 organisation-month" in str(_of(caught, MissingValuesWarning)[0].message)
    summed, _ = _read(aggregate_to_month, daily, incomplete="sum")
    assert summed["discharged_patients"].iat[0] == 2 * 27
    scaled, _ = _read(aggregate_to_month, daily, incomplete="scale")
    assert scaled["discharged_patients"].iat[0] == pytest.approx(2 * 27 * 28 / 27)


def test_aggregate_fixture_partial_month_keeps_flows_missing():
    daily, _ = _read(read_discharge_sitrep, SITREP_2022)
    out, _ = _read(aggregate_to_month, daily)
    raa = out.set_index("org_code").loc["RAA"]
    assert raa["days_reported"] == 2 and raa["days_in_month"] == 30
    assert raa["nctr_patients"] == pytest.approx((12 + 14) / 2)
    assert np.isnan(raa["discharged_patients"])


# ------------------------------------------------------------------ real NHS data (NHSRdatasets)
@pytest.fixture(scope="module")
def ae_raw(shared_reference):
    path = shared_reference / "nhs_ae_attendances" / "data.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path, dtype={"org_code": str, "type": str})


def test_real_ae_panel_frame_matches_raw_file(ae_raw):
    tidy = ae_attendances_panel(ae_raw)
    # independent: distinct org-months and column totals straight from the file
    org_months = ae_raw[["org_code", "period"]].drop_duplicates()
    assert len(tidy) == len(org_months) == 8298
    for c in ("attendances", "breaches", "admissions"):
        assert tidy[c].sum() == ae_raw[c].sum()
    assert ae_raw["attendances"].sum() == 72019402
    # one org-month checked cell by cell (pivot of the raw file)
    wide = ae_raw.pivot_table(index=["org_code", "period"], columns="type",
                              values="attendances", aggfunc="sum")
    key = ("RRK", "2018-01-01")
    expect = wide.loc[key].dropna().sum()
    got = tidy.loc[(tidy["org_code"] == "RRK") & (tidy["period"] == pd.Timestamp("2018-01-01")),
                   "attendances"].iat[0]
    assert got == expect
    type1 = ae_attendances_panel(ae_raw, types=["1"])
    assert type1["attendances"].sum() == ae_raw.loc[ae_raw["type"] == "1", "attendances"].sum()


def test_real_ae_coverage_and_panels(ae_raw):
    # independent coverage count: orgs present in all 36 months of the file
    months = ae_raw.groupby("org_code")["period"].nunique()
    n_months = ae_raw["period"].nunique()
    complete = set(months.index[months == n_months])
    tidy = ae_attendances_panel(ae_raw)
    cov = panel_coverage(tidy)
    assert set(cov.index[cov["status"] == "complete"]) == complete
    assert len(complete) == 190

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = build_ae_panel(ae_raw, outcome="admissions", keep="complete")
    msg = str(_of(caught, DroppedRowsWarning)[0].message)
    assert f"dropped {ae_raw['org_code'].nunique() - len(complete)} of" in msg
    assert panel.n_units == len(complete) and panel.n_periods == n_months and panel.is_balanced
    assert panel.outcome_kind.name == "emergency_admissions"
    expect = ae_raw.loc[ae_raw["org_code"].isin(complete), "admissions"].sum()
    assert panel.data["admissions"].sum() == expect

    with pytest.raises(GapError, match="keep='contiguous'"):
        build_ae_panel(ae_raw, keep="all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        contiguous = build_ae_panel(ae_raw, outcome=["attendances", "performance_4hr"])
    assert contiguous.n_units == int((cov["n_interior_gaps"] == 0).sum())
    assert contiguous.n_units > panel.n_units
    assert contiguous.data["performance_4hr"].between(0, 1).all()


def test_dataset_loader_frame_works_too(ae_raw):
    pytest.importorskip("evalint.datasets")
    from evalint.datasets import load

    loaded = load("nhs_ae_attendances")
    assert ae_attendances_panel(loaded)["attendances"].sum() == ae_raw["attendances"].sum()


# ------------------------------------------------------------------ real file via the registry
# Headline figures NHS England published for England (all providers), as quoted on the day of
# release: January 2018 (hefma.co.uk "Statistics show A&E departments struggling to cope",
# 8 Feb 2018; HuffPost 8 Feb 2018), January 2019 (hefma.co.uk "January A&E stats are a tale of
# highs and lows", 14 Feb 2019). Percentages are rounded to 0.1 point there; the extract carries
# later revisions, so agreement is asked to within 0.1 point (see methods/data_sources.md s.3).
PUBLISHED_4HR = [  # (month, department types, published % within 4 hours)
    ("2018-01-01", None, 85.3),   # all types
    ("2018-01-01", ["1"], 77.1),  # type 1 ("77.1% ... in type 1 A&E departments")
    ("2017-01-01", ["1"], 77.6),  # type 1, "77.6% in the same month last year"
    ("2019-01-01", None, 84.4),   # all types ("Just 84.4% ... in all A&E departments")
]


@pytest.fixture(scope="module")
def ae_registry():
    """The file as evalint's dataset registry returns it (sha256-checked)."""
    from evalint import load_dataset

    return load_dataset("nhs_ae_attendances")


def _national(tidy: pd.DataFrame, month: str) -> pd.Series:
    return tidy.loc[tidy["period"] == pd.Timestamp(month), ["attendances", "breaches", "admissions"]].sum()


@pytest.mark.parametrize("month", ["2016-04-01", "2018-01-01", "2019-03-01"])
def test_registry_file_national_month_totals_match_raw_csv(ae_raw, ae_registry, month):
    # independent: the raw CSV summed with pandas, per department type and overall
    raw_month = ae_raw.loc[ae_raw["period"] == month]
    assert len(ae_registry) == len(ae_raw) == 12765
    for types in (None, ["1"], ["2"], ["other"]):
        sub = raw_month if types is None else raw_month.loc[raw_month["type"].isin(types)]
        got = _national(ae_attendances_panel(ae_registry, types=types), month)
        for c in ("attendances", "breaches", "admissions"):
            assert got[c] == sub[c].sum(), (month, types, c)
    # the evalint route and the raw file agree on the number of type-1 providers, too
    t1 = ae_attendances_panel(ae_registry, types=["1"])
    assert (t1["period"] == pd.Timestamp(month)).sum() == \
        raw_month.loc[raw_month["type"] == "1", "org_code"].nunique()


def test_registry_file_matches_nhse_published_headlines(ae_raw, ae_registry):
    # January 2018: "total number of attendances ... was 2,000,000" (rounded to thousands);
    # "Just five from 137 reporting Trusts with type 1 departments" (hefma, 8 Feb 2018)
    jan18 = _national(ae_attendances_panel(ae_registry), "2018-01-01")
    assert jan18["attendances"] == ae_raw.loc[ae_raw["period"] == "2018-01-01", "attendances"].sum()
    assert abs(jan18["attendances"] - 2_000_000) <= 500
    t1 = ae_attendances_panel(ae_registry, types=["1"])
    assert (t1["period"] == pd.Timestamp("2018-01-01")).sum() == 137
    for month, types, published in PUBLISHED_4HR:
        nat = _national(ae_attendances_panel(ae_registry, types=types), month)
        pct = 100 * (1 - nat["breaches"] / nat["attendances"])
        assert abs(pct - published) <= 0.1 + 1e-9, (month, types, pct, published)



# ------------------------------------------------------------------ merged organisation codes
def test_combine_org_codes_on_msitae_frame_sums_and_keeps_missing():
    df, _ = _read(read_ae_monthly, [MARCH, APRIL])
    out, caught = _read(combine_org_codes, df, {"NCC": "RAA"})
    assert "1 row(s) of 1 predecessor code(s)" in str(_of(caught, CombinedCodesWarning)[0].message)
    assert out.attrs["evalint_io"]["combined_codes"] == {"NCC": "RAA"}
    mar = out.loc[out["period"] == pd.Timestamp("2026-03-01")].set_index("org_code")
    assert sorted(mar.index) == ["RAA", "RBB"]
    # March file: RAA type 1 12000, other 3000; NCC type 1 0, other 2500, type 2 '-'
    assert mar.loc["RAA", "attendances_type1"] == 12000 + 0
    assert mar.loc["RAA", "attendances_other"] == 3000 + 2500
    assert np.isnan(mar.loc["RAA", "attendances_type2"])        # 0 + '-' is missing, not 0
    assert mar.loc["RAA", "over_4hrs_other"] == 60 + 25
    assert mar.loc["RAA", "org_name"] == "ALPHA HOSPITALS NHS TRUST"
    assert mar.loc["RAA", "source"] == "ae_monthly_2026-03.csv"
    assert not out["is_total"].any()
    # 4-hour performance recomputed from the combined counts (missing='skip' totals)
    skip, _ = _read(read_ae_monthly, MARCH, missing="skip")
    comb, _ = _read(combine_org_codes, skip, {"NCC": "RAA"})
    raa = comb.set_index("org_code").loc["RAA"]
    att = (12000 + 3000 + 100 + 50) + (2500)                  # booked included; NCC type 2 missing
    over = (3000 + 60 + 10 + 5) + 25
    assert raa["attendances_total"] == att
    assert raa["performance_4hr"] == pytest.approx(1 - over / att)
    # untouched rows unchanged
    pd.testing.assert_series_equal(
        comb.set_index("org_code").loc["RBB", ["attendances_total", "performance_4hr"]].astype(float),
        skip.set_index("org_code").loc["RBB", ["attendances_total", "performance_4hr"]].astype(float))


def test_combine_org_codes_bad_mappings_raise():
    df, _ = _read(read_ae_monthly, MARCH)
    with pytest.raises(SpecificationError, match=r"'XYZ'.*not in column 'org_code'"):
        combine_org_codes(df, {"XYZ": "RAA"})
    with pytest.raises(SpecificationError, match="cycle: NCC -> RAA -> NCC"):
        combine_org_codes(df, {"NCC": "RAA", "RAA": "NCC"})
    with pytest.raises(SpecificationError, match="to itself"):
        combine_org_codes(df, {"RAA": "RAA"})
    with pytest.raises(ColumnNotFoundError):
        combine_org_codes(df, {"NCC": "RAA"}, unit="provider")
    totals, _ = _read(read_ae_monthly, MARCH, keep_totals=True)
    with pytest.raises(SpecificationError, match="TOTAL rows"):
        combine_org_codes(totals, {"NCC": "RAA"})
    # a chain is followed to its end
    chained, _ = _read(combine_org_codes, df, {"NCC": "RBB", "RBB": "RAA"})
    assert list(chained["org_code"]) == ["RAA"]
    assert chained["attendances_type1"].iat[0] == 12000 + 8000 + 0


def test_combine_org_codes_real_merger_matches_raw_sums(ae_raw, ae_registry):
    # Manchester: RM2 and RW3 stop after 2017-09, R0A starts 2017-10 (visible in the raw file)
    months = ae_raw.groupby("org_code")["period"].agg(["min", "max"])
    assert months.loc["RM2", "max"] == months.loc["RW3", "max"] == "2017-09-01"
    assert months.loc["R0A", "min"] == "2017-10-01"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CombinedCodesWarning)
        comb = combine_org_codes(ae_registry, {"RM2": "R0A", "RW3": "R0A"})
        tidy = combine_org_codes(ae_attendances_panel(ae_registry, types=["1"]),
                                 {"RM2": "R0A", "RW3": "R0A"})
    # independent: the three codes' type-1 rows summed per month straight from the raw file
    sub = ae_raw.loc[ae_raw["org_code"].isin(["RM2", "RW3", "R0A"]) & (ae_raw["type"] == "1")]
    expect = sub.groupby("period")["attendances"].sum()
    r0a = tidy.loc[tidy["org_code"] == "R0A"]
    got = pd.Series(r0a["attendances"].to_numpy(), index=r0a["period"].dt.strftime("%Y-%m-%d"))
    assert len(got) == 36 and (got == expect.reindex(got.index)).all()
    for c in ("attendances", "breaches", "admissions"):
        assert comb[c].sum() == ae_raw[c].sum()
    assert not comb.duplicated(["period", "org_code", "type"]).any()
    cov = panel_coverage(tidy)
    assert cov.loc["R0A", "status"] == "complete" and "RM2" not in cov.index
