"""Bad input on ordinal (integer) time axes: each case a typed EvalintError naming what is at
fault and what to do (the error class and the words of its message are asserted)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evalint
from evalint import Panel
from evalint.errors import EvalintError, GapError, SpecificationError, TimeParseError, TreatmentError


def _waves(values, n_units: int = 6, cohort=None) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"unit": f"u{u}", "t": v, "y": float(rng.normal() + u), "c": cohort if u < 2 else np.nan}
            for u in range(n_units) for v in values]
    return pd.DataFrame(rows)


def _check(exc_info, *words: str) -> None:
    msg = str(exc_info.value)
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("values", [[998, 999, 1000, 1001], list(range(995, 1005))])
def test_integers_on_both_sides_of_the_year_range_ask_for_time_kind(values):
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(_waves(values), unit="unit", time="t", outcome="y")
    _check(err, "'t'", "neither all calendar years", "time_kind='ordinal'", "time_kind='calendar'")


def test_yyyymm_integers_are_named_and_converted():
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(_waves([201901, 201902, 201903]), unit="unit", time="t", outcome="y")
    _check(err, "YYYYMM", "format='%Y%m'", "time_kind=")


def test_time_kind_ordinal_on_dates_is_refused():
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(_waves(["2020-01-01", "2020-02-01"]), unit="unit", time="t", outcome="y", time_kind="ordinal")
    _check(err, "time_kind='ordinal' needs whole numbers", "'t'", "2020-01-01")


def test_time_kind_ordinal_outside_the_range_it_can_hold():
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(_waves([20190101, 20190102]), unit="unit", time="t", outcome="y", time_kind="ordinal")
    _check(err, "ordinal periods must lie in -999..9999", "Renumber")


def test_unknown_time_kind():
    with pytest.raises(SpecificationError) as err:
        Panel.from_frame(_waves([1, 2]), unit="unit", time="t", outcome="y", time_kind="waves")
    _check(err, "time_kind='waves'", "'ordinal'", "'calendar'")


def test_freq_on_an_ordinal_axis():
    with pytest.raises(SpecificationError) as err:
        Panel.from_frame(_waves([1, 2, 3]), unit="unit", time="t", outcome="y", freq="M")
    _check(err, "freq='M' does not apply to an ordinal time axis", "'t'")


def test_wave_numbers_stepping_by_two_ask_for_consecutive_numbers():
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(_waves([1, 3, 5]), unit="unit", time="t", outcome="y")
    _check(err, "step by 2 every time", "ordinal", "renumber them consecutively")


def test_a_skipped_wave_number_is_a_missing_period():
    df = _waves([1, 2, 3, 4])
    df = df.loc[~((df["unit"] == "u1") & (df["t"] == 3))]
    with pytest.raises(GapError) as err:
        Panel.from_frame(df, unit="unit", time="t", outcome="y")
    _check(err, "gaps", "unit='u1' misses 1 period(s)")


def test_cohort_zero_inside_the_axis_is_ambiguous():
    df = _waves([-2, -1, 0, 1, 2], cohort=1)
    df.loc[df["unit"] == "u5", "c"] = 0
    with pytest.raises(TreatmentError) as err:
        Panel.from_frame(df, unit="unit", time="t", outcome="y", cohort="c")
    _check(err, "cohort column 'c' holds 0", "-2..2", "never treated", "'never'")


def test_cohort_zero_at_the_first_wave_means_never_treated():
    p = Panel.from_frame(_waves([0, 1], cohort=1).fillna({"c": 0}), unit="unit", time="t", outcome="y", cohort="c")
    assert len(p.timing.never_treated) == 4 and len(p.timing.treated_units) == 2


def test_cohort_outside_the_axis_in_period_numbers():
    with pytest.raises(TreatmentError) as err:
        Panel.from_frame(_waves([1, 2, 3], cohort=7), unit="unit", time="t", outcome="y", cohort="c")
    _check(err, "outside the data (1..3)", "'u0': 7")


def test_a_date_as_intervention_on_an_ordinal_axis():
    p = Panel.from_frame(_waves(range(1, 13), n_units=1), unit="unit", time="t", outcome="y")
    with pytest.raises(TimeParseError) as err:
        evalint.segmented_regression(p, intervention="2021-07-01")
    _check(err, "'2021-07-01'", "ordinal", "Give the period number")


def test_an_intervention_after_the_end_in_period_numbers():
    p = Panel.from_frame(_waves(range(1, 13), n_units=1), unit="unit", time="t", outcome="y")
    with pytest.raises(SpecificationError) as err:
        evalint.segmented_regression(p, intervention=20)
    _check(err, "maps to 20", "after the series ends (12)")


@pytest.mark.parametrize("seasonality", ["fourier", "month"])
def test_seasonality_on_an_ordinal_axis(seasonality):
    p = Panel.from_frame(_waves(range(1, 25), n_units=1), unit="unit", time="t", outcome="y")
    with pytest.raises(SpecificationError) as err:
        evalint.segmented_regression(p, intervention=13, seasonality=seasonality)
    _check(err, f"seasonality={seasonality!r}", "ordinal", "seasonality=None")


def test_a_calendar_preset_on_an_ordinal_axis():
    p = Panel.from_frame(_waves(range(1, 13)), unit="unit", time="t", outcome="y")
    with pytest.raises(SpecificationError) as err:
        evalint.evaluate(p, intervention="ics_golive_2022", fast=True)
    _check(err, "'ics_golive_2022'", "dated calendar preset", "ordinal", "intervention=3")


def test_synthetic_control_on_two_waves_names_the_missing_pre_periods():
    p = Panel.from_frame(_waves([0, 1], cohort=1), unit="unit", time="t", outcome="y", cohort="c")
    with pytest.raises(SpecificationError) as err:
        evalint.synthetic_control(p)
    _check(err, "1 pre-treatment period(s) before 1", "at least 2")
    assert "0001" not in str(err.value)


def test_subset_bounds_in_period_numbers():
    p = Panel.from_frame(_waves(range(1, 9)), unit="unit", time="t", outcome="y")
    with pytest.raises(SpecificationError) as err:
        p.subset(start=6, end=3)
    _check(err, "start=6 is after end=3 (6 > 3)")
    assert p.subset(start=3, end=5).describe()["first_period"] == 3


def test_years_as_period_numbers_when_asked():
    """time_kind='ordinal' on 2019..2022: indices, not dates (the calendar is not consulted)."""
    p = Panel.from_frame(_waves([2019, 2020, 2021, 2022], cohort=2021), unit="unit", time="t", outcome="y",
                         cohort="c", time_kind="ordinal")
    assert p.is_ordinal and p.describe()["first_period"] == 2019
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = evalint.twfe(p)
    assert any(f.source == "policy_calendar" and "ordinal" in f.message for f in r.flags)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@FUZZ
@given(start=st.integers(-1200, 3100), n=st.integers(1, 6), n_units=st.integers(1, 3),
       as_float=st.booleans(), kind=st.sampled_from([None, None, "ordinal", "calendar"]),
       drop=st.booleans())
def test_fuzz_integer_axes(start, n, n_units, as_float, kind, drop):
    """Integer time axes anywhere: a valid panel whose periods are the integers, or a typed error."""
    values = list(range(start, start + n))
    df = _waves(values, n_units=n_units)
    if drop and len(df) > 2:
        df = df.drop(index=1).reset_index(drop=True)   # a gap (or a shorter first unit)
    if as_float:
        df["t"] = df["t"].astype(float)
    before = df.copy(deep=True)
    try:
        p = Panel.from_frame(df, unit="unit", time="t", outcome="y", time_kind=kind)
    except EvalintError:
        pass
    else:
        shown = [p.time_label(x) for x in p.periods]
        if p.is_ordinal:
            assert shown == list(range(int(df["t"].min()), int(df["t"].max()) + 1))
        else:
            assert (1000 <= start and start + n - 1 <= 3000
                    and shown == [str(v) for v in range(start, start + n)][:len(shown)])
    pd.testing.assert_frame_equal(df, before)


def test_command_line_on_survey_waves(tmp_path, capsys):
    """evalint evaluate on a CSV of two waves: DiD runs (exit 0); a wrong time_kind exits 2, one line."""
    from evalint.cli import main

    rng = np.random.default_rng(2)
    rows = [{"area": f"a{u}", "wave": w, "score": float(rng.normal() + (1.5 if u < 10 and w == 1 else 0.0))}
            for u in range(30) for w in (0, 1)]
    pd.DataFrame(rows).to_csv(tmp_path / "waves.csv", index=False)
    cfg = tmp_path / "c.toml"
    base = ('[data]\npath = "waves.csv"\nunit = "area"\ntime = "wave"\noutcomes = ["score"]\n{kind}\n'
            '[evaluation]\nintervention = 1\ntreated = [{treated}]\nfast = true\ndesigns = ["did"]\n')
    treated = ", ".join(f'"a{u}"' for u in range(10))
    cfg.write_text(base.format(kind='time_kind = "ordinal"', treated=treated))
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "out")]) == 0
    import re

    html = re.sub(r"base64,[A-Za-z0-9+/=]+", "", (tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert "Not checked: the time axis is ordinal" in html and "0001" not in html
    capsys.readouterr()
    cfg.write_text(base.format(kind='time_kind = "waves"', treated=treated))
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalint: error:") and "time_kind='waves'" in err and "Traceback" not in err


def test_two_waves_nine_months_apart_as_dates_point_to_period_numbers():
    df = _waves(["2021-01-15", "2021-10-15"])
    with pytest.raises(TimeParseError) as err:
        Panel.from_frame(df, unit="unit", time="t", outcome="y")
    _check(err, "273 days apart", "number the waves", "rank(method='dense') - 1", "ordinal time axis")
    df["t"] = pd.to_datetime(df["t"]).rank(method="dense").astype(int) - 1
    assert Panel.from_frame(df, unit="unit", time="t", outcome="y").describe()["last_period"] == 1


@pytest.mark.parametrize("as_text", [True, False])
def test_period_numbers_as_text_or_objects(as_text):
    """Wave numbers read as text ("1", "2") or held as Python ints in an object column."""
    df = _waves([1, 2, 3])
    df["t"] = df["t"].astype(str) if as_text else df["t"].astype(object)
    p = Panel.from_frame(df, unit="unit", time="t", outcome="y")
    assert p.is_ordinal and [p.time_label(x) for x in p.periods] == [1, 2, 3]
