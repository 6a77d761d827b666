"""Bad input to Panel.from_frame and the estimators: a typed EvalintError naming what is at
fault and what to do, never a raw numpy/pandas/Python crash or a silent number.

Each case asserts the error class and the words of its message. Expected numbers come from
closed forms (a rate ratio's z on the log scale is the GLM coefficient's own Wald z).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint import Panel
from evalint.errors import (
    ColumnNotFoundError,
    DataError,
    DuplicateRowsError,
    InvalidValueError,
    SpecificationError,
    TimeParseError,
)


def _frame(n_units: int = 6, n_periods: int = 24, treated: int = 2, start: str = "2020-01",
           seed: int = 0) -> pd.DataFrame:
    """A small monthly panel: units A.., counts with noise, cohort at period 16 for the first units."""
    rng = np.random.default_rng(seed)
    months = pd.period_range(start, periods=n_periods, freq="M")
    rows = []
    for i in range(n_units):
        for t, m in enumerate(months):
            rows.append({"unit": f"U{i}", "month": str(m), "admissions": int(rng.poisson(200 + 10 * i)),
                         "los": float(5 + rng.normal(0, 0.3)), "population": 100_000 + 1_000 * i,
                         "cohort": str(months[16]) if i < treated else "never"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def panel2(frame) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="month", outcome=["admissions", "los"],
                            population="population", cohort="cohort")


def _check(exc_info, *words: str) -> None:
    msg = str(exc_info.value)
    for w in words:
        assert w in msg, (w, msg)
    assert "np.int64" not in msg and "np.float64" not in msg


# ------------------------------------------------------------------ a DataFrame where a Panel goes
@pytest.mark.parametrize("name", ["callaway_santanna", "twfe", "event_study", "synthetic_control",
                                  "synthetic_did", "count_its", "segmented_its" if hasattr(evalint, "segmented_its")
                                  else "its", "sun_abraham", "imputation_did"])
def test_dataframe_instead_of_panel(frame, name):
    fn = getattr(evalint, name)
    with pytest.raises(SpecificationError) as err:
        fn(frame)
    _check(err, "not a pandas DataFrame", "Panel.from_frame(df, unit=", "'admissions'")


def test_list_instead_of_panel():
    with pytest.raises(SpecificationError) as err:
        evalint.twfe([1, 2, 3])
    _check(err, "expects an evalint Panel; got list")


# ------------------------------------------------------------------ outcome=
@pytest.mark.parametrize("name", ["callaway_santanna", "twfe", "event_study", "synthetic_control"])
def test_unknown_outcome_names_the_choices(panel2, name):
    with pytest.raises(ColumnNotFoundError) as err:
        getattr(evalint, name)(panel2, outcome="nope")
    _check(err, "outcome='nope' is not an outcome of this panel", "'admissions', 'los'")


def test_data_column_that_is_not_an_outcome(panel2):
    with pytest.raises(ColumnNotFoundError) as err:
        evalint.twfe(panel2, outcome="population")
    _check(err, "is a column of the panel's data but not an outcome", "Panel.from_frame(outcome=[...])")


@pytest.mark.parametrize("name", ["callaway_santanna", "twfe", "event_study", "synthetic_did", "sun_abraham"])
def test_multi_outcome_panel_needs_outcome(panel2, name):
    with pytest.raises(SpecificationError) as err:
        getattr(evalint, name)(panel2)
    _check(err, "this panel has 2 outcomes ('admissions', 'los')", "outcome=<one of them>")


def test_multi_outcome_panel_with_outcome_chosen(panel2):
    a = evalint.twfe(panel2, outcome="los")
    b = evalint.twfe(panel2.with_outcome("los"))
    assert a.estimate == b.estimate and a.outcome == "los"


# ------------------------------------------------------------------ seed
def test_callaway_santanna_takes_seed(panel2):
    from evalint.inference import MultiplierBootstrap

    a = evalint.callaway_santanna(panel2, outcome="admissions", seed=5)
    b = evalint.callaway_santanna(panel2, outcome="admissions", inference=MultiplierBootstrap(seed=5))
    assert a.ci == b.ci and a.se == b.se
    c = evalint.callaway_santanna(panel2, outcome="admissions", seed=6)
    assert c.ci != a.ci  # the seed reaches the bootstrap


def test_seed_conflicts_and_non_random_inference(panel2):
    from evalint.inference import Analytic, MultiplierBootstrap

    with pytest.raises(SpecificationError) as err:
        evalint.callaway_santanna(panel2, outcome="admissions", seed=5, inference=MultiplierBootstrap(seed=7))
    _check(err, "disagree", "give the seed once")
    with pytest.raises(SpecificationError) as err:
        evalint.callaway_santanna(panel2, outcome="admissions", seed=5, inference=Analytic())
    _check(err, "draws nothing at random")


# ------------------------------------------------------------------ columns and time values
def test_duplicate_column_names(frame):
    df = frame.copy()
    df.columns = ["unit", "unit", *df.columns[2:]]
    with pytest.raises(DataError) as err:
        Panel.from_frame(df, unit="unit", time="admissions", outcome="los")
    _check(err, "column name 'unit' appears 2 times", "positions 0, 1", "Rename or drop")


def test_unused_duplicate_columns_are_fine(frame):
    df = pd.concat([frame, frame[["los"]].rename(columns={"los": "x"}), frame[["los"]].rename(columns={"los": "x"})],
                   axis=1)
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    assert p.n_units == 6


@pytest.mark.parametrize(
    ("bad", "cls", "words"),
    [
        ("2021-13", TimeParseError, ["'2021-13' (row 7)", "not valid monthly periods", "months run 1-12"]),
        ("foo", TimeParseError, ["'foo' (row 7)", "not dates or periods", "monthly periods"]),
        ("2020Q5", TimeParseError, ["'2020Q5' (row 7)", "not dates or periods"]),
        ("", TimeParseError, ["not dates or periods"]),
    ],
)
def test_bad_time_value_names_column_and_row(frame, bad, cls, words):
    df = frame.copy()
    df.loc[7, "month"] = bad
    with pytest.raises(cls) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, "time column 'month'", *words)
    assert df.loc[7, "month"] == bad  # input not mutated


def test_uk_day_first_dates_are_read_day_first(frame):
    df = frame.copy()
    df["month"] = pd.PeriodIndex(df["month"], freq="M").to_timestamp().strftime("%d/%m/%Y")
    assert df["month"].iloc[3] == "01/04/2020"
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    assert p.freq == "M" and str(p.periods[3]) == "2020-04" and p.n_periods == 24


def test_us_month_first_dates_are_read_month_first(frame):
    df = frame.copy()
    df["month"] = pd.PeriodIndex(df["month"], freq="M").to_timestamp().strftime("%m/%d/%Y")
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    assert str(p.periods[3]) == "2020-04"


@pytest.mark.parametrize("fmt", ["%b-%y", "%b %Y", "%B-%y", "%b '%y", "%b-%Y"])
def test_nhs_month_labels_are_those_months(frame, fmt):
    """NHS England's spreadsheets label months 'Apr-22'. pandas alone reads that as 22 April of
    year 1, so a financial year's months came out as 0001-01..0001-12 with Jan-Mar 2023 before
    Apr 2022 and every estimate changed, silently. The labels are the months they name, with the
    cohort and the intervention in the same form."""
    df = frame.copy()
    iso = Panel.from_frame(df, unit="unit", time="month", outcome="admissions", cohort="cohort")
    def label(col: pd.Series) -> pd.Series:
        named = pd.Series(pd.PeriodIndex(col.where(col != "never"), freq="M").strftime(fmt), index=col.index)
        return named.where(col != "never", "never")

    lab = df.assign(month=label(df["month"]), cohort=label(df["cohort"]))
    assert lab["month"].iloc[3] == pd.Period("2020-04", "M").strftime(fmt)
    panel = Panel.from_frame(lab, unit="unit", time="month", outcome="admissions", cohort="cohort")
    assert list(panel.periods) == list(iso.periods) and panel.fingerprint == iso.fingerprint
    assert panel.period(pd.Period("2021-05", "M").strftime(fmt)) == pd.Period("2021-05", "M")
    a, b = evalint.twfe(iso), evalint.twfe(panel)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_uk_dates_with_dashes_are_read_day_first(frame):
    """'01-04-2020' is 1 April 2020 as '01/04/2020' is (it was read month first: a daily panel)."""
    df = frame.copy()
    df["month"] = pd.PeriodIndex(df["month"], freq="M").to_timestamp().strftime("%d-%m-%Y")
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    assert p.freq == "M" and str(p.periods[3]) == "2020-04" and p.n_periods == 24


@pytest.mark.parametrize("fmt", ["%m/%y", "%m-%y", "%y-%b"])
def test_dates_without_a_year_are_refused(frame, fmt):
    df = frame.copy()
    df["month"] = pd.PeriodIndex(df["month"], freq="M").strftime(fmt)
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, "time column 'month'", "hold no year", f"{df['month'].iloc[0]!r} (row 0", "'Apr-22'")
    with pytest.raises(TimeParseError, match="holds no year"):
        evalint.data.timeparse.to_period("04/22", "M")


def test_ambiguous_slashed_dates_are_refused():
    df = pd.DataFrame({"unit": "A", "d": ["01/02/2020", "02/03/2020", "03/04/2020"], "y": [1.0, 2, 3]})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="d", outcome="y")
    _check(err, "could be day-first", "dayfirst=True", "format='%m/%d/%Y'")


def test_mixed_day_and_month_first_dates():
    df = pd.DataFrame({"unit": "A", "d": ["13/01/2020", "01/14/2020"], "y": [1.0, 2]})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="d", outcome="y")
    _check(err, "mixes day-first and month-first")


@pytest.mark.parametrize(
    ("freq", "words"),
    [("W", ["holds monthly values", "freq='W' is finer", "Pass freq='M'"]),
     ("D", ["holds monthly values", "freq='D' is finer"]),
     ("Q", ["freq='Q' is coarser", "aggregate the data to quarterly totals"])],
)
def test_freq_that_does_not_match_monthly_data(frame, freq, words):
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(frame, unit="unit", time="month", outcome="admissions", freq=freq)
    _check(err, *words)


@pytest.mark.parametrize("as_text", [True, False])
def test_weekly_data_with_monthly_freq(as_text):
    weeks = pd.date_range("2021-01-04", periods=20, freq="W-MON")
    df = pd.DataFrame({"unit": "A", "week": weeks.astype(str) if as_text else weeks, "y": np.arange(20.0) + 1})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="week", outcome="y", freq="M")
    _check(err, "holds weekly values", "freq='M' is coarser", "Pass freq='W'")


def test_monthly_dates_with_weekly_freq():
    df = pd.DataFrame({"unit": "A", "m": pd.date_range("2021-01-01", periods=12, freq="MS"), "y": np.arange(12.0)})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="m", outcome="y", freq="W")
    _check(err, "holds monthly values", "freq='W' is finer")


def test_start_after_end(panel2):
    with pytest.raises(SpecificationError) as err:
        panel2.subset(start="2021-06", end="2020-06")
    _check(err, "start='2021-06' is after end='2020-06'", "swap them")
    with pytest.raises(SpecificationError) as err:
        panel2.subset(start="2030-01")
    _check(err, "after the panel's last period 2021-12")
    with pytest.raises(SpecificationError) as err:
        panel2.subset(end="2010-01")
    _check(err, "before the panel's first period 2020-01")


# ------------------------------------------------------------------ magnitudes and finiteness
@pytest.mark.parametrize(
    ("column", "value", "cls", "words"),
    [
        ("population", 1e308, InvalidValueError, ["population column 'population'", "impossible magnitude",
                                                  "'U0' at 2020-04 = 1e+308"]),
        ("population", 1e200, InvalidValueError, ["impossible magnitude"]),
        ("population", 1e-300, InvalidValueError, ["impossible magnitude", "below 1/"]),
        ("population", np.inf, InvalidValueError, ["must be finite", "'U0' at 2020-04 = inf"]),
        ("admissions", 1e308, InvalidValueError, ["outcome column 'admissions'", "impossible magnitude"]),
        ("admissions", 1e16, InvalidValueError, ["impossible magnitude"]),
        ("admissions", -np.inf, InvalidValueError, ["must be finite"]),
        ("los", 1e300, InvalidValueError, ["outcome column 'los'", "impossible magnitude"]),
    ],
)
def test_absurd_values_are_refused(frame, column, value, cls, words):
    df = frame.copy()
    df[column] = df[column].astype(float)
    df.loc[3, column] = value
    before = df.copy()
    with pytest.raises(cls) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome=["admissions", "los"], population="population",
                         cohort="cohort")
    _check(err, *words)
    pd.testing.assert_frame_equal(df, before)


def test_absurd_covariate_and_weights(frame):
    df = frame.assign(x=1.0, w=10.0)
    df.loc[5, "x"] = 1e300
    with pytest.raises(InvalidValueError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions", covariates=["x"])
    _check(err, "covariate column 'x'", "impossible magnitude")
    df = frame.assign(w=10.0)
    df.loc[5, "w"] = 1e300
    with pytest.raises(InvalidValueError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions", weights="w")
    _check(err, "weights column 'w'", "impossible magnitude")


def test_large_but_plausible_values_pass(frame):
    df = frame.copy()
    df["population"] = df["population"] * 10_000  # 1e9: a national population scale
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions", population="population")
    assert p.n_units == 6


def test_absurd_population_in_evaluate_is_refused_not_estimated():
    """Issue 12: population = 1e308 in one treated ICB-month gave SDID +6.2e16 % with status ok."""
    from evalint.datasets import simulate_nhs

    sim = simulate_nhs(seed=1, adoption={"QHG": "2023-04", "QUE": "2023-04"})
    df = sim.data.assign(population=sim.data["population"].astype(float))
    df.loc[(df.icb_code == "QHG") & (df.month == pd.Period("2023-06", "M")), "population"] = 1e308
    with pytest.raises(InvalidValueError) as err:
        Panel.from_frame(df, unit="icb_code", time="month", outcome="emergency_admissions", population="population")
    _check(err, "'QHG' at 2023-06 = 1e+308")


@pytest.mark.parametrize("name", ["synthetic_did", "callaway_santanna", "twfe"])
def test_constant_outcome(frame, name):
    df = frame.assign(admissions=100)
    p = Panel.from_frame(df, unit="unit", time="month", outcome="admissions", cohort="cohort")
    with pytest.raises(InvalidValueError) as err:
        getattr(evalint, name)(p)
    _check(err, "outcome 'admissions' is 100 in every one of its 144 rows", "no information about an effect")


def test_constant_outcome_in_evaluate_is_a_design_failure_not_a_number(frame):
    df = frame.assign(los=5.0)
    p = Panel.from_frame(df, unit="unit", time="month", outcome=["admissions", "los"], population="population",
                         cohort="cohort")
    ev = evalint.evaluate(p, outcomes=["los"], fast=True, calendar=False)
    assert ev.failures and all(k[1] == "los" for k in ev.failures)
    assert all("every one of its" in str(f) for f in ev.failures.values())
    assert not any(e.ok for e in ev.entries.values())


# ------------------------------------------------------------------ messages in plain values
def test_integer_unit_ids_print_plainly(frame):
    df = frame.copy()
    df["unit"] = df["unit"].str[1:].astype("int64") + 8000
    df = df.loc[~((df["unit"] == 8001) & (df["month"] == "2020-05"))]
    with pytest.raises(evalint.errors.GapError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, "unit=8001 misses 1 period(s)")


def test_scm_summary_has_no_raw_dicts_or_timestamps(frame):
    p = Panel.from_frame(frame, unit="unit", time="month", outcome="admissions")
    res = evalint.synthetic_control(p, treated=["U0"], intervention=pd.Timestamp("2021-05-01"))
    text = str(res.summary())
    assert "{" not in text and "00:00:00" not in text
    assert "U0: " in text


def test_format_examples_is_plain():
    from evalint.errors import format_examples

    assert format_examples([np.int64(8001), np.float64(2.5), pd.Timestamp("2022-04-01")]) == "8001, 2.5, '2022-04-01'"


# ------------------------------------------------------------------ count_its statistic
def test_rate_ratio_statistic_is_on_the_log_scale():
    """The headline z of a rate ratio is log(RR)/SE(log RR): the GLM coefficient's own z."""
    from scipy import stats

    from evalint.datasets import simulate_nhs

    sim = simulate_nhs(seed=1, adoption={"QHG": "2023-04"})
    p = Panel.from_frame(sim.data, unit="icb_code", time="month", outcome="emergency_admissions",
                         population="population").subset(units=["QHG"])
    res = evalint.count_its(p, "2023-04", impact="step")
    head = res.to_frame("overall").iloc[0]
    coef = res.coefficients.set_index("term").loc["level_intervention"]
    assert head["estimate"] == pytest.approx(np.exp(coef["estimate"]), rel=1e-12)
    assert head["statistic"] == pytest.approx(coef["estimate"] / coef["std_error"], rel=1e-10)
    # and it matches the p-value reported beside it (normal or t reference)
    z = abs(head["statistic"])
    p_norm = 2 * stats.norm.sf(z)
    df_ = res.inference.df
    p_ref = p_norm if df_ is None or not np.isfinite(df_) else 2 * stats.t.sf(z, df_)
    assert head["p_value"] == pytest.approx(p_ref, rel=1e-6)
    assert abs(head["statistic"]) < 10  # the ratio-scale number (estimate/SE ~ 38) is gone


def test_duplicate_rows_message(frame):
    df = pd.concat([frame, frame.iloc[[5]]])
    with pytest.raises(DuplicateRowsError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, "unit='U0', month=2020-06", "one row per unit and period")


# ------------------------------------------------------------------ integer time axes
def _annual(first: int = 2006, last: int = 2021, effect: float = 5.0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"unit": f"u{i}", "year": y, "y": 100 + i + 2 * (y - first) + rng.normal(0, 0.5)
             + (effect if i < 2 and y >= 2017 else 0.0), "cohort": 2017 if i < 2 else 0}
            for i in range(8) for y in range(first, last + 1)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("cast", [int, float, str])
def test_integer_years_are_annual_periods(cast):
    df = _annual()
    df["year"] = df["year"].map(cast)
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")
    assert p.freq == "Y" and p.n_periods == 16 and str(p.periods[0]) == "2006"


def test_annual_panel_through_the_estimators_and_evaluate():
    """A 2-unit step of 5 from 2017 in otherwise parallel linear series (noise SD 0.5)."""
    p = Panel.from_frame(_annual(), unit="unit", time="year", outcome="y", cohort="cohort")
    cs = evalint.callaway_santanna(p, seed=1)
    assert cs.ci[0] < 5.0 < cs.ci[1]
    single = p.subset(units=["u0"])
    its = evalint.segmented_regression(single, 2017, calendar=False, impact="step")
    assert abs(its.estimate - 5.0) < 2.0
    ev = evalint.evaluate(p, fast=True, calendar=False)
    assert not any(k[0] == "its" for k in ev.failures), ev.failures  # no monthly seasonality on annual data


@pytest.mark.parametrize("values", [[0, 1], [1, 2, 3, 4]])
def test_ordinal_integers_as_calendar_get_a_message_with_the_mapping(values):
    """time_kind='calendar' on period numbers: the mapping to dates, and the ordinal way in."""
    df = pd.DataFrame({"unit": "A", "wave": values, "y": np.arange(len(values), dtype=float) + 1})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="wave", outcome="y", time_kind="calendar")
    _check(err, "not calendar years", "survey waves 0/1", f"df['wave'] - {values[0]}]", "time_kind='ordinal'")


@pytest.mark.parametrize("name", ["twfe", "event_study"])
def test_seed_on_wild_bootstrap_estimators(panel2, name):
    from evalint.inference import WildClusterBootstrap

    fn = getattr(evalint, name)
    a = fn(panel2, outcome="admissions", inference=WildClusterBootstrap(reps=199), seed=4)
    b = fn(panel2, outcome="admissions", inference=WildClusterBootstrap(reps=199, seed=4))
    assert a.ci == b.ci and a.p_value == b.p_value
    # the default below 50 clusters is the wild cluster bootstrap: seed= seeds it (it was refused
    # as 'the default inference draws nothing at random')
    assert panel2.n_units < 50
    c = fn(panel2, outcome="admissions", seed=4)
    d = fn(panel2, outcome="admissions", inference=WildClusterBootstrap(seed=4))
    e = fn(panel2, outcome="admissions", inference=WildClusterBootstrap(seed=5))
    assert c.inference.name == "WildClusterBootstrap" and c.inference.seed == 4
    assert c.ci == d.ci and c.p_value == d.p_value and c.ci != e.ci


@pytest.mark.parametrize("name", ["twfe", "event_study"])
def test_seed_with_a_default_that_draws_nothing_is_noted(name):
    from evalint.estimators.did.twfe import simulated_panel

    panel = simulated_panel(n_units=60, n_periods=6, seed=1)  # 60 clusters: the default is CR1
    res = getattr(evalint, name)(panel, seed=4)
    assert res.inference.name == "Clustered" and res.inference.seed is None
    assert "seed=4 is unused" in res.inference.note


def test_linalg_failure_becomes_inference_error(panel2, monkeypatch):
    """A LinAlgError inside any fit reaches the user as a typed InferenceError saying what to check."""
    from evalint.errors import InferenceError

    def singular(*a, **k):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(np.linalg, "lstsq", singular)
    monkeypatch.setattr(np.linalg, "solve", singular)
    monkeypatch.setattr(np.linalg, "inv", singular)
    monkeypatch.setattr(np.linalg, "pinv", singular)
    monkeypatch.setattr(np.linalg, "qr", singular)
    with pytest.raises(InferenceError) as err:
        evalint.twfe(panel2, outcome="admissions")
    _check(err, "twfe: the linear algebra of the fit failed (Singular matrix)", "collinear covariates")


@pytest.mark.parametrize(
    ("change", "cls", "words"),
    [
        (lambda d: d.assign(unit=[[1]] * len(d)), DataError, ["unit column 'unit' holds list values"]),
        (lambda d: d.assign(unit=[1 if i % 2 else "1" for i in range(len(d))]), DataError,
         ["unit column 'unit' mixes types", "astype(str)"]),
        (lambda d: d.assign(admissions=d["admissions"] + 1j), evalint.errors.NonNumericError,
         ["holds complex numbers"]),
        (lambda d: d.assign(month=pd.to_timedelta(np.arange(len(d)) % 24, unit="D")), TimeParseError,
         ["holds durations"]),
        (lambda d: d.assign(month=d["month"].map(lambda m: m == "2020-01")), TimeParseError, ["is boolean"]),
        (lambda d: d.assign(admissions=d["admissions"].astype(str).str.replace("1", "l")),
         evalint.errors.NonNumericError, ["must be numeric"]),
        (lambda d: d.assign(admissions=pd.to_timedelta(d["admissions"], unit="D")), evalint.errors.NonNumericError,
         ["outcome column 'admissions' holds durations", ".dt.total_seconds() / 86400"]),
        (lambda d: d.assign(admissions=pd.Series(list(pd.to_timedelta(d["admissions"], unit="h")), dtype=object)),
         evalint.errors.NonNumericError, ["holds durations"]),
        (lambda d: d.assign(admissions=pd.Timestamp("2020-01-01") + pd.to_timedelta(d["admissions"], unit="D")),
         evalint.errors.NonNumericError, ["holds dates, not quantities"]),
    ],
)
def test_odd_column_types(frame, change, cls, words):
    df = change(frame.copy())
    before = df.copy()
    with pytest.raises(cls) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, *words)
    pd.testing.assert_frame_equal(df, before)


def test_column_named_zero_and_time_none(frame):
    p = Panel.from_frame(frame.rename(columns={"unit": 0}), unit=0, time="month", outcome="admissions")
    assert p.n_units == 6
    with pytest.raises(SpecificationError) as err:
        Panel.from_frame(frame, unit="unit", time=None, outcome="admissions")
    _check(err, "time= is required")


def test_callaway_santanna_unknown_option(panel2):
    with pytest.raises(SpecificationError) as err:
        evalint.callaway_santanna(panel2, outcome="admissions", contol="never_treated")
    _check(err, "unknown option(s) 'contol'", "did you mean 'control'?")


@pytest.mark.parametrize("fast", ["false", "yes", 1, None])
def test_evaluate_fast_must_be_bool(panel2, fast):
    with pytest.raises(SpecificationError) as err:
        evalint.evaluate(panel2, outcomes=["admissions"], fast=fast, calendar=False)
    _check(err, "fast must be True or False")


def test_synthetic_did_takes_outcome(panel2):
    a = evalint.synthetic_did(panel2, outcome="los", seed=1)
    b = evalint.synthetic_did(panel2.with_outcome("los"), seed=1)
    assert a.estimate == b.estimate and a.outcome == "los"
    with pytest.raises(ColumnNotFoundError) as err:
        evalint.synthetic_did(panel2, outcome="nope")
    _check(err, "synthetic_did: outcome='nope' is not an outcome of this panel")


def test_estimator_warnings_point_at_the_callers_code(panel2):
    """The input guard adds a frame around fit; warnings must still point at the user's line."""
    import warnings

    from evalint.estimators.did import TWFE
    from evalint.inference import WildClusterBootstrap

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        evalint.twfe(panel2, outcome="admissions", inference=WildClusterBootstrap(reps=199, seed=1))
        TWFE().fit(panel2, outcome="admissions", inference=WildClusterBootstrap(reps=199, seed=1))
    # FewTreatedWarning (a FewClustersWarning subclass) also fires on this few-treated panel
    few = [w for w in rec if w.category is evalint.errors.FewClustersWarning]
    assert len(few) == 2
    assert all(not w.filename.endswith("estimators/base.py") for w in few), [w.filename for w in few]
    assert few[1].filename == __file__  # TWFE().fit called here directly


@pytest.mark.parametrize("dtype", ["Int64", "string[python]", "string[pyarrow]"])
def test_nullable_unit_columns_give_the_plain_columns_results(frame, dtype):
    """A unit column of a nullable dtype (Int64, pandas or pyarrow strings) builds the same panel as
    the plain column, and twfe / the treatment indicator run on it (they raised a raw TypeError /
    ValueError on pd.NA for never-treated units)."""
    if dtype.endswith("[pyarrow]"):
        pytest.importorskip("pyarrow")
    codes = frame["unit"].str[1:].astype(int)
    plain = frame.assign(unit=codes if dtype == "Int64" else frame["unit"])
    nullable = plain.assign(unit=plain["unit"].astype(dtype))
    a, b = (Panel.from_frame(d, unit="unit", time="month", outcome="admissions", cohort="cohort")
            for d in (plain, nullable))
    pd.testing.assert_series_equal(b.treated_indicator(), a.treated_indicator(), check_index=False)
    pd.testing.assert_frame_equal(evalint.twfe(b).to_frame(), evalint.twfe(a).to_frame())


def test_integer_column_labels(frame):
    """Columns labelled by integers (a frame read without a header) are named by those labels."""
    df = frame[["unit", "month", "admissions"]].set_axis([0, 1, 2], axis=1)
    p = Panel.from_frame(df, unit=0, time=1, outcome=2)
    assert p.outcomes == (2,) and p.n_units == 6


def test_one_column_role_given_a_list(frame):
    with pytest.raises(SpecificationError) as err:
        Panel.from_frame(frame, unit=["unit"], time="month", outcome="admissions")
    _check(err, "unit= takes one column name; got list ['unit']", "Pass unit='unit'.")


@pytest.mark.parametrize(("text", "month"), [("13/07/2022", "2022-07"), ("07/13/2022", "2022-07"),
                                             ("31-01-2023", "2023-01"), ("Jul-22", "2022-07"),
                                             ("01/01/2022", "2022-01")])
def test_one_date_read_in_the_order_it_shows(panel2, text, month):
    """A date given as an intervention or a window end is read as the time column is: day-first
    when its first part is above 12, month-first when its second is."""
    assert panel2.period(text) == pd.Period(month, "M")


@pytest.mark.parametrize("text", ["01/07/2022", "1/7/22", "01-07-2022"])
def test_one_ambiguous_slashed_date_is_refused(panel2, text):
    """'01/07/2022' was read month first (January 2022): a July intervention moved 6 months
    earlier, silently. It could be either, so it is refused with the ISO form of the UK reading."""
    with pytest.raises(TimeParseError) as err:
        panel2.period(text, "intervention")
    _check(err, f"intervention={text!r} could be day-first (UK: 1 July) or month-first (US: 7 January)",
           "'2022-07-01'")
    from evalint.calendar.event_records import _as_date

    with pytest.raises(TimeParseError, match="could be day-first"):
        _as_date(text, "start")


@pytest.mark.parametrize("sep", ["-", "/"])
def test_financial_years_are_refused_with_what_to_do(sep):
    """'2016-17' (an NHS financial year, April to March) was read as month 17 of 2016 ('not valid
    monthly periods'), '2016/17' as not a date: the message says what they are and what to do."""
    fy = [f"{y}{sep}{(y + 1) % 100:02d}" for y in (2016, 2017, 2018)]
    df = pd.DataFrame({"unit": np.repeat(["a", "b"], 3), "fy": fy * 2, "y": np.arange(6.0)})
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="fy", outcome="y")
    _check(err, "time column 'fy' holds financial years", f"'2016{sep}17' (row 0, 3)", "time_kind='ordinal'")
    ordinal = Panel.from_frame(df.assign(fy=df["fy"].str[:4].astype(int)), unit="unit", time="fy", outcome="y",
                               time_kind="ordinal")
    assert ordinal.n_periods == 3


def test_unit_ids_differing_only_by_spaces_are_refused(frame):
    """'QHG' and 'QHG ' (a spreadsheet's stray space) built two units with half the months each."""
    df = frame.copy()
    df.loc[df.index[:5], "unit"] = df["unit"].iloc[0] + " "
    with pytest.raises(DataError) as err:
        Panel.from_frame(df, unit="unit", time="month", outcome="admissions")
    _check(err, "unit column 'unit' holds ids that differ only by spaces ('U0', 'U0 ')", ".str.strip()")
    nbsp = frame.assign(unit=frame["unit"].where(frame.index % 2 == 0, "\xa0" + frame["unit"]))
    with pytest.raises(DataError, match="differ only by spaces"):
        Panel.from_frame(nbsp, unit="unit", time="month", outcome="admissions")


def test_quarterly_data_labelled_by_month_is_quarterly():
    """'Jan-18', 'Apr-18', ... (a quarter labelled by its first month) is quarterly, as the same
    dates written '2018-01-01', '2018-04-01' are; read as months they were refused as gaps."""
    months = pd.period_range("2018-01", periods=8, freq="Q").asfreq("M", how="start")
    df = pd.DataFrame({"unit": np.repeat(["a", "b"], 8), "q": list(months.strftime("%b-%y")) * 2, "y": np.arange(16.0)})
    iso = df.assign(q=list(months.strftime("%Y-%m-01")) * 2)
    a = Panel.from_frame(df, unit="unit", time="q", outcome="y")
    b = Panel.from_frame(iso, unit="unit", time="q", outcome="y")
    assert a.freq == b.freq == "Q" and list(a.periods) == list(b.periods)
