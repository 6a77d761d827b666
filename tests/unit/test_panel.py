"""Panel.from_frame: valid panels and every bad input named in the foundation issue."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint import Panel
from evalint.errors import (
    ColumnNotFoundError, DataError, DroppedRowsWarning, DuplicateRowsError, EmptyDataError,
    EvalintError, GapError, InvalidValueError, MissingValuesError, NonNumericError,
    SpecificationError, TimeParseError, TreatmentError, UnbalancedPanelError,
)


def frame(n_units: int = 3, n_periods: int = 6, start: str = "2020-01-01", freq: str = "MS") -> pd.DataFrame:
    units = [f"U{i}" for i in range(n_units)]
    dates = pd.date_range(start, periods=n_periods, freq=freq)
    df = pd.DataFrame([(u, d) for u in units for d in dates], columns=["icb", "month"])
    df["emergency_admissions"] = np.arange(len(df), dtype=float) * 10 + 100
    df["length_of_stay"] = 8.0
    df["population"] = 500_000.0
    df["treated"] = 0
    return df


def build(df: pd.DataFrame, **kw):
    args = dict(unit="icb", time="month", outcome="emergency_admissions")
    args.update(kw)
    return Panel.from_frame(df, **args)


def test_valid_panel_basic_views():
    df = frame()
    p = build(df, population="population")
    assert p.n_units == 3 and p.n_periods == 6 and p.freq == "M"
    assert p.is_balanced and p.missing_cells().empty
    m = p.to_matrix()
    assert m.shape == (3, 6)
    # to_matrix holds exactly the input values in unit x period order
    np.testing.assert_array_equal(m.to_numpy().ravel(), df["emergency_admissions"].to_numpy())
    assert str(p.periods[0]) == "2020-01"
    assert p.outcome_kind.name == "emergency_admissions"  # inferred from the column name


def test_input_frame_is_never_mutated():
    df = frame().sample(frac=1.0, random_state=1)  # shuffled rows
    before = df.copy(deep=True)
    p = build(df, population="population", treatment="treated")
    pd.testing.assert_frame_equal(df, before)
    d = p.data
    d["emergency_admissions"] = -1.0  # changing the view leaves the panel intact
    assert (p.data["emergency_admissions"] >= 0).all()


@pytest.mark.parametrize("freq,pd_freq,start", [
    ("D", "D", "2021-01-01"), ("W", "W-MON", "2021-01-04"), ("M", "MS", "2021-01-01"),
    ("Q", "QS", "2021-01-01"), ("Y", "YS", "2015-01-01"),
])
def test_frequencies_are_inferred(freq, pd_freq, start):
    p = build(frame(start=start, freq=pd_freq))
    assert p.freq == freq and p.n_periods == 6


def test_integer_years_and_strings():
    df = frame(freq="YS", start="1990-01-01")
    df["month"] = df["month"].dt.year
    assert build(df).freq == "Y"
    df2 = frame(freq="QS")
    df2["month"] = df2["month"].dt.to_period("Q").astype(str)
    assert build(df2).freq == "Q"


def test_date_as_intervention_point_on_monthly_and_quarterly():
    assert str(build(frame()).period("2022-07-01")) == "2022-07"
    assert str(build(frame(freq="QS")).period("2022-07-01")) == "2022Q3"
    assert str(build(frame(freq="QS")).period("2022-08-15")) == "2022Q3"


def test_single_series_is_a_one_unit_panel():
    df = frame(n_units=1).drop(columns="icb")
    p = Panel.from_frame(df, time="month", outcome="emergency_admissions")
    assert p.is_single_series and p.n_units == 1


def test_column_not_found_lists_existing_columns():
    with pytest.raises(ColumnNotFoundError, match="Columns that exist:.*emergency_admissions") as e:
        build(frame(), outcome="admissions_typo")
    assert isinstance(e.value, EvalintError) and isinstance(e.value, ValueError)
    assert "admissions_typo" in str(e.value)


def test_empty_frame():
    with pytest.raises(EmptyDataError):
        build(frame().iloc[0:0])


def test_duplicate_rows_show_the_first_few():
    df = pd.concat([frame(), frame().iloc[[0, 7]]])
    with pytest.raises(DuplicateRowsError, match=r"icb='U0', month=2020-01") as e:
        build(df)
    assert "2 duplicated pairs" in str(e.value)


def test_missing_outcome_errors_by_default_and_drop_warns_with_count():
    df = frame()
    df.loc[[2, 8], "emergency_admissions"] = np.nan
    with pytest.raises(MissingValuesError, match=r"2 missing value\(s\).*'U0' at 2020-03"):
        build(df)
    with pytest.warns(DroppedRowsWarning, match=r"Dropped 2 row\(s\)"):
        p = build(df, missing="drop")
    assert len(p.data) == 16 and not p.is_balanced
    cells = p.missing_cells()
    assert set(map(tuple, cells.astype(str).to_numpy())) == {("U0", "2020-03"), ("U1", "2020-03")}
    with pytest.raises(UnbalancedPanelError, match="2 unit-period cell"):
        p.require_balanced("Synthetic control")


def test_non_numeric_outcome():
    df = frame()
    df["emergency_admissions"] = df["emergency_admissions"].astype(object)
    df.loc[3, "emergency_admissions"] = "n/a"
    with pytest.raises(NonNumericError, match=r"'n/a'"):
        build(df)


def test_time_values_that_do_not_parse():
    df = frame()
    df["month"] = df["month"].astype(str)
    df.loc[4, "month"] = "not a date"
    with pytest.raises(TimeParseError, match="not a date"):
        build(df)


def test_time_values_mixing_frequencies():
    df = frame()
    df["month"] = df["month"].dt.strftime("%Y-%m")
    df.loc[0, "month"] = "2019Q4"
    with pytest.raises(TimeParseError, match="mixes frequencies"):
        build(df)
    # one unit quarterly, others monthly
    q = frame(n_units=1, freq="QS")
    q["icb"] = "UQ"
    mixed = pd.concat([frame(n_units=2), q])
    with pytest.raises(TimeParseError, match="mixes frequencies"):
        build(mixed)


def test_gap_inside_a_unit():
    df = frame().drop(index=[2, 3])
    with pytest.raises(GapError, match=r"icb='U0' misses 2 period"):
        build(df)


def test_unbalanced_spans_are_allowed_and_reported():
    df = frame().drop(index=[0, 1])  # U0 starts two months late
    p = build(df)
    assert not p.is_balanced and len(p.missing_cells()) == 2
    assert p.describe()["missing_cells"] == 2


def test_negative_counts_rejected():
    df = frame()
    df.loc[5, "emergency_admissions"] = -3
    with pytest.raises(InvalidValueError, match=r"must be >= 0.*'U0' at 2020-06 = -3"):
        build(df)


def test_non_positive_length_of_stay_and_population():
    df = frame()
    df.loc[1, "length_of_stay"] = 0.0
    with pytest.raises(InvalidValueError, match="length_of_stay.*> 0"):
        build(df, outcome="length_of_stay")
    df = frame()
    df.loc[1, "population"] = 0
    with pytest.raises(InvalidValueError, match="population"):
        build(df, population="population")


def test_treatment_switching_off_is_an_error():
    df = frame()
    df.loc[df.icb == "U1", "treated"] = [0, 0, 1, 1, 0, 1]
    with pytest.raises(TreatmentError, match=r"not absorbing.*'U1' switches off at 2020-05"):
        build(df, treatment="treated")


def test_treatment_values_other_than_0_1():
    df = frame()
    df.loc[3, "treated"] = 2
    with pytest.raises(TreatmentError, match="only 0 and 1"):
        build(df, treatment="treated")


def test_cohort_from_treatment_and_relative_time():
    df = frame()
    df.loc[(df.icb == "U1") & (df.month >= "2020-04-01"), "treated"] = 1
    p = build(df, treatment="treated")
    assert str(p.timing.cohort["U1"]) == "2020-04"
    assert list(p.timing.never_treated) == ["U0", "U2"]
    rel = p.relative_time()[p.data.icb == "U1"].tolist()
    assert rel == [-3, -2, -1, 0, 1, 2]


def test_cohort_column_dates_and_never_codes():
    df = frame()
    df["first"] = df.icb.map({"U0": "2020-03-01", "U1": 0, "U2": np.nan})
    p = build(df, cohort="first")
    assert str(p.timing.cohort["U0"]) == "2020-03"
    assert set(p.timing.never_treated) == {"U1", "U2"}


def test_cohort_outside_the_data():
    df = frame()
    df["first"] = df.icb.map({"U0": "2021-03-01", "U1": 0, "U2": 0})
    with pytest.raises(TreatmentError, match=r"outside the data.*'U0': 2021-03"):
        build(df, cohort="first")


def test_units_treated_in_first_period_are_dropped_with_count():
    df = frame()
    df.loc[df.icb == "U2", "treated"] = 1
    with pytest.warns(DroppedRowsWarning, match=r"Dropped 1 unit\(s\) already treated"):
        p = build(df, treatment="treated")
    assert "U2" not in set(p.units) and p.dropped["treated_in_first_period"] == 1


def test_treatment_and_cohort_together_is_a_specification_error():
    df = frame()
    df["first"] = 0
    with pytest.raises(SpecificationError):
        build(df, treatment="treated", cohort="first")


def test_all_errors_are_value_errors():
    for cls in (DataError, SpecificationError, ColumnNotFoundError, TreatmentError):
        assert issubclass(cls, EvalintError) and issubclass(cls, ValueError)


def test_aggregate_sums_counts_and_population():
    p = build(frame(), population="population", outcome=["emergency_admissions", "length_of_stay"])
    agg = p.aggregate("England")
    m = p.to_matrix().sum(axis=0).to_numpy()
    np.testing.assert_allclose(agg.data["emergency_admissions"].to_numpy(), m)
    np.testing.assert_allclose(agg.data["population"].to_numpy(), 1_500_000.0)
    np.testing.assert_allclose(agg.data["length_of_stay"].to_numpy(), 8.0)


def test_fingerprint_tracks_content():
    a = build(frame()).fingerprint
    b = build(frame()).fingerprint
    df = frame()
    df.loc[0, "emergency_admissions"] += 1
    assert a == b and build(df).fingerprint != a


def test_no_warning_for_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build(frame(), population="population")


@pytest.mark.parametrize(("end", "last"), [("2020", "2020-12"), ("2020Q3", "2020-09"), ("2020-07", "2020-07"),
                                           ("Jul-20", "2020-07"), ("2020-07-15", "2020-07")])
def test_window_end_named_as_a_period_includes_all_of_it(end, last):
    """end='2020' ended the window in January 2020 (the year's first month) while the policy
    calendar's --to 2020 means the end of 2020: an end named as a period includes its last month."""
    from evalint.datasets import simulate_nhs

    panel = simulate_nhs(seed=1, start="2018-04", end="2022-03").panel
    assert panel.subset(end=end).periods[-1] == pd.Period(last, "M")
