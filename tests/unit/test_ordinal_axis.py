"""Ordinal (integer) time axes: survey waves 0/1, period indices 1..T.

Outside truth: the estimators only difference periods, so a panel numbered 1..T must give
exactly the estimates of the same data placed on real annual dates (2000..2000+T-1), and a
two-wave panel's DiD must equal the closed-form 2x2 difference of means. Everything a user
reads shows the period numbers, never the years that hold them internally.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint import Panel

T, FIRST_TREATED = 16, 11


def _frame(seed: int = 0) -> pd.DataFrame:
    """12 units x 16 periods, 3 treated from period 11 (step 1.0), unit and time trends, N(0, 1) noise."""
    rng = np.random.default_rng(seed)
    rows = [{"unit": f"u{u:02d}", "wave": t, "year": 1999 + t,
             "y": rng.normal() + 0.3 * u + 0.1 * t + (1.0 if u < 3 and t >= FIRST_TREATED else 0.0),
             "first_wave": FIRST_TREATED if u < 3 else np.nan,
             "first_year": 1999 + FIRST_TREATED if u < 3 else np.nan}
            for u in range(12) for t in range(1, T + 1)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panels() -> tuple[Panel, Panel]:
    df = _frame()
    annual = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="first_year")
    ordinal = Panel.from_frame(df, unit="unit", time="wave", outcome="y", cohort="first_wave")
    return annual, ordinal


def test_detected_and_described_in_period_numbers(panels):
    annual, ordinal = panels
    assert annual.time_kind == "calendar" and ordinal.time_kind == "ordinal" and ordinal.is_ordinal
    d = ordinal.describe()
    assert (d["first_period"], d["last_period"], d["frequency"]) == (1, 16, "ordinal")
    assert d["cohorts"] == {"11": 3}
    assert "ordinal periods 1..16" in repr(ordinal)
    assert ordinal.fingerprint != annual.fingerprint


FITS = {
    "twfe": lambda p: evalint.twfe(p),
    "event_study": lambda p: evalint.event_study(p),
    "callaway_santanna": lambda p: evalint.callaway_santanna(p),
    "synthetic_control": lambda p: evalint.synthetic_control(p),
    "synthetic_did": lambda p: evalint.synthetic_did(p, seed=3),
    "segmented_its": lambda p: evalint.segmented_regression(p.subset(["u00"])),
}


@pytest.mark.parametrize("name", list(FITS))
def test_estimates_equal_the_same_data_on_annual_dates(panels, name):
    annual, ordinal = panels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, o = FITS[name](annual), FITS[name](ordinal)
    assert o.estimate == pytest.approx(a.estimate, rel=1e-10, abs=1e-12)
    assert o.se == pytest.approx(a.se, rel=1e-10, abs=1e-12)
    assert o.ci == pytest.approx(a.ci, rel=1e-10, abs=1e-12)
    # the user's numbers everywhere they read: tables, intervention, summary
    text = str(o.summary()).split("References")[0]   # (the references cite years)
    assert "0011" not in text and "2010" not in text, text
    for frame in (o.effects, o.series if o.series is not None else pd.DataFrame(), *o.tables.values()):
        for col in frame.columns:
            assert not isinstance(frame[col].dtype, pd.PeriodDtype), (name, col)
            assert not frame[col].map(lambda v: isinstance(v, (pd.Period, pd.Timestamp))).any(), (name, col)
    times = o.effects["time"].dropna() if "time" in o.effects else pd.Series(dtype=object)
    if len(times):
        assert set(times.map(lambda v: int(str(v)))) <= set(range(1, T + 1)), (name, times.tolist())


def test_intervention_is_a_period_number_and_the_calendar_says_it_was_not_checked(panels):
    _, ordinal = panels
    single = ordinal.subset(["u00"])
    r = evalint.segmented_regression(single, intervention=FIRST_TREATED)
    assert "11" in str(r.intervention) and "0011" not in str(r.intervention)
    cal = [d for d in r.diagnostics if d.name == "policy_calendar"]
    assert cal and cal[0].passed is None and "ordinal" in cal[0].text
    notes = [f for f in r.flags if f.source == "policy_calendar"]
    assert notes and notes[0].severity == "info" and "cannot be placed" in notes[0].message
    # the same intervention on the real dates of the annual panel: the same estimate
    annual = Panel.from_frame(_frame(), unit="unit", time="year", outcome="y").subset(["u00"])
    assert r.estimate == pytest.approx(evalint.segmented_regression(annual, intervention=2010).estimate, rel=1e-10)


def _two_waves(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"unit": f"s{u}", "wave": w, "y": rng.normal() + u / 40 + 0.3 * w + (2.0 if u < 15 and w == 1 else 0.0),
             "treated_from": 1 if u < 15 else 0}
            for u in range(40) for w in (0, 1)]
    return pd.DataFrame(rows)


def test_two_survey_waves_did_is_the_two_by_two_difference_of_means():
    df = _two_waves()
    p = Panel.from_frame(df, unit="unit", time="wave", outcome="y", cohort="treated_from")
    m = df.groupby(["treated_from", "wave"])["y"].mean()
    closed = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fit in (evalint.twfe, evalint.event_study, evalint.callaway_santanna):
            assert fit(p).estimate == pytest.approx(closed, rel=1e-10)


def test_two_survey_waves_evaluate_runs_did_and_names_what_cannot_run():
    p = Panel.from_frame(_two_waves(), unit="unit", time="wave", outcome="y", cohort="treated_from")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evalint.evaluate(p, fast=True, seed=1, robustness=False)
    t = ev.table()
    assert list(t.loc[t["status"] == "ok", "design"]) == ["did"]
    assert "only 1 period(s) before" in ev.skipped["its"] and "(1)" in ev.skipped["its"]
    text = ev.summary()
    assert "Not checked: the time axis is ordinal" in text and "0001" not in text
    assert ev.provenance.calendar == "not checked (ordinal time axis)"


@pytest.mark.parametrize("as_text", [str, object])
@pytest.mark.parametrize("fmt", ["%Y-%m-01", "%Y-%m", "%b %Y", "%d/%m/%Y"])
def test_text_time_column_parsed_once_per_distinct_value(monkeypatch, as_text, fmt):
    """Building a panel parses each distinct time (and cohort) string once: no ``pd.to_numeric``
    or ``pd.to_datetime`` call sees more values than there are distinct ones (issue 17: a national
    panel repeats each of ~100 dates for every unit; the time-kind detection once parsed all
    624,000 strings, 0.43 s of a 0.45 s panel build). Whole numbers as text are still found
    ordinal; date strings still calendar."""
    seen: list[tuple[str, int]] = []

    def counting(name):
        real = getattr(pd, name)

        def parse(arg, *a, **k):
            seen.append((name, len(arg) if hasattr(arg, "__len__") and not isinstance(arg, str) else 1))
            return real(arg, *a, **k)
        return parse

    for name in ("to_numeric", "to_datetime"):
        monkeypatch.setattr(pd, name, counting(name))
    n_units, months = 300, pd.period_range("2019-01", periods=24, freq="M")
    unit = np.repeat(np.arange(n_units), len(months))
    dates = pd.DataFrame({"unit": unit, "month": np.tile(months.strftime(fmt), n_units).astype(as_text),
                          "y": 1.0, "cohort": np.where(unit < 5, "2020-01-01", None).astype(as_text)})
    panel = Panel.from_frame(dates, unit="unit", time="month", outcome="y", cohort="cohort")
    assert panel.time_kind == "calendar" and panel.freq == "M"
    assert seen and max(n for _, n in seen) <= len(months), f"parsed more values than distinct: {seen}"
    waves = dates.drop(columns="cohort").assign(month=np.tile(np.arange(1, 25).astype(str), n_units).astype(as_text))
    panel = Panel.from_frame(waves, unit="unit", time="month", outcome="y")
    assert panel.time_kind == "ordinal"
    assert panel.periods[0] == pd.Period(year=1, freq="Y")


@pytest.mark.parametrize("make", [
    lambda m: pd.Period("2019-01", "M") + (m - 1),                                   # Periods held as objects
    lambda m: pd.Series([pd.Timestamp(2019, 1, 1) + pd.DateOffset(months=int(k) - 1) for k in m], dtype=object),
    lambda m: pd.Series([(pd.Timestamp(2019, 1, 1) + pd.DateOffset(months=int(k) - 1)).date() for k in m]),
])
def test_dates_held_as_python_objects_are_calendar(make):
    """Periods, Timestamps or dates in an object column are calendar periods, not numbers (parsing
    the distinct values must keep the column's dtype: re-inferred as ``period[M]``, pandas would
    turn Periods into their integer ordinals)."""
    months = pd.Series(np.tile(np.arange(1, 13), 4))
    col = make(months)
    assert col.dtype == object
    frame = pd.DataFrame({"unit": np.repeat(["a", "b", "c", "d"], 12), "y": 1.0})
    frame["month"] = col
    assert frame["month"].dtype == object
    panel = Panel.from_frame(frame, unit="unit", time="month", outcome="y")
    assert panel.time_kind == "calendar" and panel.freq == "M"
    assert panel.periods[0] == pd.Period("2019-01", "M")


@pytest.mark.parametrize(("values", "kind"), [
    ([False, True, 0, 1] * 3, "ordinal"),          # True == 1: de-duplicated, the booleans alone would remain
    ([1.0, Fraction(1), 2.0] * 3, "calendar"),     # Fraction(1) == 1.0: the float alone would remain
])
def test_detection_of_mixed_object_columns_is_that_of_the_whole_column(values, kind):
    """An object column mixing types that compare equal (True == 1, Fraction(1) == 1.0) is read
    as a whole, as ``pd.to_numeric`` reads it, not through one value of each kind."""
    from evalint.data.ordinal import detect_kind

    col = pd.Series(values, dtype=object)
    whole = pd.to_numeric(col, errors="coerce")
    assert (kind == "ordinal") == bool(whole.notna().all() and (whole % 1 == 0).all())
    assert detect_kind(col, None, "t") == kind


@pytest.mark.parametrize("as_text", [False, True], ids=["integers", "integer strings"])
def test_categorical_period_numbers_read_as_the_plain_column(as_text):
    """A categorical time column is read through its values, as the unit column is: period numbers
    in a categorical (integers, or the text a CSV reader categorised) give the same ordinal panel
    as the plain column; before, a categorical of integer strings was parsed as dates and refused."""
    df = _frame()
    plain = Panel.from_frame(df, unit="unit", time="wave", outcome="y", cohort="first_wave")
    wave = df["wave"].astype(str) if as_text else df["wave"]
    cat = df.assign(wave=wave.astype("category"))
    before = cat.copy()
    panel = Panel.from_frame(cat, unit="unit", time="wave", outcome="y", cohort="first_wave")
    pd.testing.assert_frame_equal(cat, before)  # the input is not changed
    assert panel.time_kind == plain.time_kind == "ordinal"
    assert list(panel.periods) == list(plain.periods)
    pd.testing.assert_frame_equal(panel.to_matrix(), plain.to_matrix())
    assert panel.fingerprint == plain.fingerprint


def test_categorical_time_with_a_missing_value_names_the_row():
    df = _frame()
    wave = df["wave"].astype(float)
    wave[5] = np.nan
    with pytest.raises(evalint.errors.TimeParseError, match=r"time column 'wave'.*rows 5"):
        Panel.from_frame(df.assign(wave=wave.astype("category")), unit="unit", time="wave", outcome="y")


def test_integers_beyond_int64_are_shown_as_they_are():
    """Object integers too large for int64 are neither years nor an index: the refusal shows the
    values themselves (it showed -9223372036854775808, the overflow of a cast, with a RuntimeWarning)."""
    df = _frame()
    big = pd.Series([2**70 + w for w in df["wave"]], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(evalint.errors.TimeParseError) as err:
            Panel.from_frame(df.assign(wave=big), unit="unit", time="wave", outcome="y")
    assert str(2**70 + 1) in str(err.value) and "-9223372036854775808" not in str(err.value)

