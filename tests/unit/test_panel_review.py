"""Review of the foundation layer: Panel edge cases that once gave a silently wrong answer,
an unclear traceback, or a slow build; and the summary renderers on awkward content.

Every expected value here is worked out by hand from the input frame (closed form).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.data.timeparse import to_period, to_periods
from evalint.errors import (
    DroppedRowsWarning,
    EvalintError,
    InvalidValueError,
    SpecificationError,
    TimeParseError,
    TreatmentError,
)


def monthly(units=("a", "b", "c"), T=6, start="2020-01-01") -> pd.DataFrame:
    return pd.DataFrame({
        "u": np.repeat(list(units), T),
        "t": np.tile(pd.date_range(start, periods=T, freq="MS"), len(units)),
        "y": np.arange(len(units) * T, dtype=float),
    })


def annual(units=("a", "b", "c"), T=6, first=2000) -> pd.DataFrame:
    return pd.DataFrame({
        "u": np.repeat(list(units), T),
        "t": np.tile(np.arange(first, first + T), len(units)),
        "y": np.arange(len(units) * T, dtype=float),
    })


# ------------------------------------------------------------- treatment timing


def test_missing_outcome_in_first_treated_period_does_not_move_the_cohort():
    # 'a' is treated from April 2020; its April outcome is missing. Dropping that row must not
    # make 'a' look first treated in May (it did: timing was read after the drop).
    df = monthly()
    df["tr"] = ((df["t"] >= "2020-04-01") & (df["u"] != "c")).astype(int)
    df.loc[(df.u == "a") & (df.t == "2020-04-01"), "y"] = np.nan
    with pytest.warns(DroppedRowsWarning):
        p = Panel.from_frame(df, unit="u", time="t", outcome="y", treatment="tr", missing="drop")
    assert p.timing.cohort["a"] == pd.Period("2020-04", "M")
    assert p.timing.cohort["b"] == pd.Period("2020-04", "M")
    rel = p.relative_time()[p.data["u"] == "a"].tolist()
    assert rel == [-3.0, -2.0, -1.0, 1.0, 2.0]  # April (0) is the missing cell


def test_unit_left_without_rows_is_named_in_the_warning_and_leaves_timing():
    df = monthly()
    df["tr"] = ((df["t"] >= "2020-04-01") & (df["u"] != "c")).astype(int)
    df.loc[df.u == "a", "y"] = np.nan
    with pytest.warns(DroppedRowsWarning, match=r"1 unit\(s\) have no rows left.*'a'"):
        p = Panel.from_frame(df, unit="u", time="t", outcome="y", treatment="tr", missing="drop")
    assert list(p.units) == ["b", "c"]
    assert list(p.timing.cohort.index) == ["b", "c"]
    assert p.dropped == {"missing_values": 6, "units_without_data": 1}


def test_cohort_missing_in_some_rows_of_a_treated_unit_is_an_error():
    df = annual()
    df["c"] = np.repeat([2003.0, 0.0, np.nan], 6)
    df.loc[0, "c"] = np.nan  # first row of 'a' says never, the others say 2003
    with pytest.raises(TreatmentError, match=r"missing in some rows but not others.*'a'"):
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")


def test_cohort_of_booleans_points_to_treatment():
    df = annual()
    df["c"] = np.repeat([True, False, False], 6)
    with pytest.raises(TreatmentError, match="use treatment= instead"):
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")


@pytest.mark.parametrize("codes", [
    [2003.0, np.inf, 0.0],
    np.array([2003, "never", None], dtype=object),
    pd.array([2003, 0, None], dtype="Int64"),
    pd.array([2003.0, None, 0.0], dtype="Float64"),
    pd.Series(["2003", "never", None], dtype="string"),
    pd.Series([pd.Period("2003", "Y"), pd.NaT, pd.NaT], dtype="period[Y]"),
])
def test_never_treated_codes_and_float_years(codes):
    df = annual()
    df["c"] = np.repeat(np.asarray(codes, dtype=object), 6)
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")
    assert p.timing.cohort["a"] == pd.Period("2003", "Y")
    assert list(p.timing.never_treated) == ["b", "c"]


def test_non_integer_cohort_year_is_rejected_not_read_as_1970():
    df = annual()
    df["c"] = np.repeat([2003.5, 0, 0], 6)
    with pytest.raises(TimeParseError, match="non-integer number"):
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")


def test_out_of_range_integer_cohort_message_does_not_contradict_itself():
    df = annual()
    df["c"] = np.repeat([2003, 1, 0], 6)
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")
    assert "calendar years (1000-3000)" in str(err.value)
    assert "needs annual data" not in str(err.value)


# ------------------------------------------------------------------- dates


@pytest.mark.parametrize("value", [2022.0, np.float64(2022), np.int64(2022), 2022])
def test_float_year_is_that_year(value):
    assert to_period(value, "Y") == pd.Period("2022", "Y")
    p = Panel.from_frame(annual(first=2020), unit="u", time="t", outcome="y")
    assert p.period(value) == pd.Period("2022", "Y")
    assert list(p.subset(start=value).periods.astype(str)) == ["2022", "2023", "2024", "2025"]


def test_float_on_monthly_data_is_an_error_not_1970():
    with pytest.raises(TimeParseError, match="needs annual data"):
        to_period(2020.0, "M")
    with pytest.raises(TimeParseError, match="non-integer"):
        to_period(2020.5, "Y")
    with pytest.raises(TimeParseError):
        to_period(True, "Y")


@pytest.mark.parametrize("freq, label", [("Y-MAR", "annual"), ("W-WED", "weekly"), ("Q-JAN", "quarterly")])
def test_period_anchors_that_would_shift_spans_are_rejected(freq, label):
    per = pd.period_range("2020-01-01", periods=4, freq=freq)
    with pytest.raises(TimeParseError, match=rf"{label} periods anchored '{freq}'"):
        to_periods(pd.Series(per), column="t")


def test_financial_quarters_are_relabelled_to_the_same_calendar_quarters():
    per = pd.period_range("2020Q1", periods=4, freq="Q-MAR")  # fiscal 2020Q1 = Apr-Jun 2019
    out, f = to_periods(pd.Series(per), column="t")
    assert f == "Q"
    assert [p.start_time for p in out] == [p.start_time for p in per]
    assert [p.end_time.normalize() for p in out] == [p.end_time.normalize() for p in per]


def test_weekly_dates_on_different_weekdays_get_a_specific_message():
    df = monthly(units=("a", "b"), T=8)
    df["t"] = np.concatenate([pd.date_range("2020-01-01", periods=8, freq="W-WED"),
                              pd.date_range("2020-01-05", periods=8, freq="W-SUN")])
    with pytest.raises(TimeParseError, match=r"different weekdays \(Wednesday, Sunday\).*freq='W'"):
        Panel.from_frame(df, unit="u", time="t", outcome="y")
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", freq="W")
    # Wed 2020-01-01 and Sun 2020-01-05 both fall in the ISO week Mon 2019-12-30..Sun 2020-01-05
    assert p.is_balanced and p.n_periods == 8


# ------------------------------------------------------------ values and roles


@pytest.mark.parametrize("role", ["outcome", "covariates", "weights", "population"])
def test_infinite_values_are_rejected(role):
    df = monthly()
    df["v"] = 10.0
    df.loc[4, "v"] = np.inf
    kw = {"outcome": "y"}
    kw["outcome" if role == "outcome" else role] = "v"
    with pytest.raises(InvalidValueError, match=r"'v' must be finite.*'a' at 2020-05 = inf"):
        Panel.from_frame(df, unit="u", time="t", **kw)


@pytest.mark.parametrize("kw", [
    {"outcome": "t"},
    {"outcome": "u"},
    {"outcome": ["y", "y"]},
    {"outcome": "y", "covariates": ["y"]},
    {"outcome": "y", "treatment": "y"},
])
def test_one_column_in_two_roles_is_a_specification_error(kw):
    with pytest.raises(SpecificationError, match="column '.' is given"):
        Panel.from_frame(monthly(), unit="u", time="t", **kw)


def test_population_may_double_as_weights():
    df = monthly()
    df["pop"] = 1000.0
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", population="pop", weights="pop")
    assert p.population == p.weights == "pop"


def test_categorical_unit_ids_behave_like_plain_ones():
    df = monthly()
    plain = Panel.from_frame(df, unit="u", time="t", outcome="y")
    df["u"] = pd.Categorical(df["u"], categories=["c", "a", "b", "unused"])
    cat = Panel.from_frame(df, unit="u", time="t", outcome="y")
    assert list(cat.units) == ["a", "b", "c"]
    assert cat.n_units == 3 and cat.is_balanced
    assert not isinstance(cat.data["u"].dtype, pd.CategoricalDtype)
    assert cat.fingerprint == plain.fingerprint


def test_fingerprint_reflects_cohorts():
    df = annual()
    df["c"] = np.repeat([2003, 0, 0], 6)
    p1 = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")
    df["c"] = np.repeat([2004, 0, 0], 6)
    p2 = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c")
    assert p1.data.equals(p2.data)
    assert p1.fingerprint != p2.fingerprint


def test_fingerprint_ignores_row_order_and_index():
    df = monthly()
    df["tr"] = ((df["t"] >= "2020-04-01") & (df["u"] != "c")).astype(int)
    a = Panel.from_frame(df, unit="u", time="t", outcome="y", treatment="tr")
    shuffled = df.sample(frac=1, random_state=3)
    shuffled.index = np.arange(100, 100 + len(df))[::-1]
    b = Panel.from_frame(shuffled, unit="u", time="t", outcome="y", treatment="tr")
    assert a.fingerprint == b.fingerprint
    assert a.data.equals(b.data)


# --------------------------------------------------------------- transforms


def test_subset_with_one_unit_as_a_string():
    p = Panel.from_frame(monthly(units=("north", "south")), unit="u", time="t", outcome="y")
    assert list(p.subset("north").units) == ["north"]  # not the characters 'n', 'o', ...
    with pytest.raises(SpecificationError, match=r"not in the panel: 'east'.*Units in the panel: 'north', 'south'"):
        p.subset(["east"])


@pytest.mark.parametrize("col", ["u", "t"])
def test_to_matrix_of_unit_or_time_column_is_refused(col):
    p = Panel.from_frame(monthly(), unit="u", time="t", outcome="y")
    with pytest.raises(SpecificationError, match="not a value"):
        p.to_matrix(col)


def test_to_matrix_on_unbalanced_panel_has_nan_cells():
    df = monthly().drop(index=[0, 6, 7])  # 'a' starts in Feb, 'b' in March
    p = Panel.from_frame(df, unit="u", time="t", outcome="y")
    m = p.to_matrix()
    assert m.shape == (3, 6)
    assert np.isnan(m.loc["a"].iloc[0]) and np.isnan(m.loc["b"].iloc[:2]).all()
    assert m.loc["c"].tolist() == [12.0, 13.0, 14.0, 15.0, 16.0, 17.0]


def test_aggregate_with_zero_weights_in_a_period_is_an_error():
    df = monthly()
    df["w"] = 1.0
    df.loc[df.t == "2020-03-01", "w"] = 0.0
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", weights="w")
    with pytest.raises(InvalidValueError, match=r"sums to 0 in 1 period\(s\).*'2020-03'"):
        p.aggregate()


def test_input_frame_is_not_mutated_by_any_build_path():
    df = annual()
    df["c"] = np.repeat([2003, 0, np.nan], 6)
    df["u"] = pd.Categorical(df["u"])
    df.loc[5, "y"] = np.nan
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="c", missing="drop")
    pd.testing.assert_frame_equal(df, before)


def test_every_error_above_is_an_evalint_error():
    # errors users meet must stay catchable as EvalintError / ValueError
    for exc in (InvalidValueError, SpecificationError, TimeParseError, TreatmentError):
        assert issubclass(exc, EvalintError) and issubclass(exc, ValueError)


# -------------------------------------------------------------- performance


def test_build_of_6500_units_by_96_months_from_a_shuffled_frame():
    # Correctness at benchmark scale; the build's speed is measured in benchmarks/did_bench.py,
    # never asserted in a test.
    rng = np.random.default_rng(0)
    U, T = 6500, 96
    df = pd.DataFrame({
        "unit": np.repeat([f"u{i:05d}" for i in range(U)], T),
        "month": np.tile(pd.date_range("2016-04-01", periods=T, freq="MS"), U),
        "y": rng.poisson(100, U * T).astype(float),
    })
    start = np.repeat(np.where(rng.random(U) < 0.5, 40, T + 1), T)
    df["treat"] = (np.tile(np.arange(T), U) >= start).astype(int)
    df = df.sample(frac=1, random_state=1)
    p = Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treat")
    rel = p.relative_time()
    fp = p.fingerprint
    assert p.n_units == U and p.n_periods == T and len(fp) == 16
    assert rel.notna().sum() == len(p.timing.treated_units) * T


# ------------------------------------------------------------------ summary


def _result(**kw):
    from evalint.results.effect import InferenceInfo, make_result

    base = dict(method="Toy", estimand="difference in means", term="ATT", outcome="y",
                estimate=1.0, se=0.5, inference=InferenceInfo("normal", "analytic"))
    base.update(kw)
    return make_result(**base)


def test_format_number_handles_all_missing_scalars():
    from evalint.results.summary import format_number

    assert [format_number(x) for x in (np.float32("nan"), pd.NA, pd.NaT, None, np.nan)] == [""] * 5
    assert format_number(np.float32(2.5)) == "2.500"


def test_summary_with_nan_se_says_not_available():
    r = _result(se=np.nan)
    text = str(r.summary())
    assert "95% CI not available" in text
    assert "Std. error  not available" in text


def test_confidence_level_is_not_rounded():
    assert "97.5% CI" in str(_result(alpha=0.025).summary())
    assert "90% CI" in str(_result(alpha=0.10).summary())


def test_flag_html_and_markdown_are_escaped():
    from evalint.diagnostics.base import Flag

    evil = Flag("confounding", "high", "<script>alert(1)</script> a|b\nsecond line", source="x & y")
    s = _result(flags=(evil,), method="M<b>").summary()
    html, md, text = s.as_html(), s.as_markdown(), str(s)
    assert "<script>" not in html and "&lt;script&gt;" in html and "x &amp; y" in html
    assert "<script>" not in md and "&lt;script&gt;" in md and "<b>" not in md
    flag_row = next(line for line in md.splitlines() if "alert" in line)
    assert "a\\|b second line" in flag_row and flag_row.count(" | ") == 3  # 4 cells, 1 line
    assert "a|b second line" in text  # text keeps the message, on one line


def test_summary_renders_empty_effects_and_long_strings():
    r = _result(term="x" * 500, estimand="y" * 1000,
                effects=pd.DataFrame({"term": ["z" * 300], "estimate": [np.nan]}))
    s = r.summary()
    for out in (str(s), s.as_markdown(), s.as_html()):
        assert "x" * 500 in out
    assert max(len(line) for line in str(s).splitlines() if line.startswith("z")) <= 60
    empty = _result(effects=pd.DataFrame(columns=["term", "estimate"]))
    assert "Effects" not in str(empty.summary())
    assert list(empty.to_frame()["term"]) == ["ATT"]
