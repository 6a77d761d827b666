"""Hypothesis properties of :meth:`evalint.data.panel.Panel.from_frame`.

Panels are generated from integer period indices k (0, 1, 2, ... from a base period), written
out as dates, strings, Periods or years. Expected values come from those integers, not from
evalint: the period of row k is the k-th period after the base, relative time is k - k_cohort.

- permuting the input rows gives the same panel (data, fingerprint, timing);
- to_matrix returns every input value in its (unit, period) cell and NaN elsewhere;
- relative_time equals the period difference computed from the generator's integers, also
  after missing='drop' removed rows (including the first treated period);
- building never mutates the input frame.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from evalint.data.panel import Panel  # noqa: E402
from evalint.errors import DroppedRowsWarning, EvalintError  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE_MONTH = (2015, 1)
BASE_DAY = dt.date(2019, 3, 25)  # a Monday; DST starts 2019-03-31 in the UK


def _label(freq: str, style: str, k: int):
    """The period k steps after the base, written in ``style``."""
    if freq == "M":
        y, m = divmod(BASE_MONTH[0] * 12 + BASE_MONTH[1] - 1 + k, 12)
        m += 1
        return {"timestamp": pd.Timestamp(y, m, 1), "string": f"{y}-{m:02d}",
                "period": pd.Period(year=y, month=m, freq="M"),
                "tz": pd.Timestamp(y, m, 1, tz="Europe/London")}[style]
    if freq == "Q":
        y, q = divmod(2015 * 4 + k, 4)
        q += 1
        return {"timestamp": pd.Timestamp(y, 3 * q - 2, 1), "string": f"{y} Q{q}",
                "period": pd.Period(f"{y}Q{q}", freq="Q"), "tz": f"{y}-Q{q}"}[style]
    if freq == "Y":
        return {"timestamp": 2000 + k, "string": str(2000 + k), "period": pd.Period(year=2000 + k, freq="Y"),
                "tz": float(2000 + k)}[style]
    if freq == "D":
        d = BASE_DAY + dt.timedelta(days=k)
        return {"timestamp": pd.Timestamp(d), "string": d.isoformat(), "period": pd.Period(d, freq="D"),
                "tz": pd.Timestamp(d, tz="Europe/London")}[style]
    # weekly: every date a Sunday (end of an ISO week)
    d = BASE_DAY + dt.timedelta(days=7 * k + 6)
    return {"timestamp": pd.Timestamp(d), "string": d.isoformat(), "period": pd.Period(d, freq="W"),
            "tz": pd.Timestamp(d, tz="Europe/London")}[style]


@st.composite
def panels(draw):
    """(frame, kwargs, expected) with expected = {(unit, k): y} and cohort indices."""
    freq = draw(st.sampled_from(["M", "Q", "Y", "D", "W"]))
    style = draw(st.sampled_from(["timestamp", "string", "period", "tz"]))
    id_kind = draw(st.sampled_from(["str", "int", "categorical"]))
    n_units = draw(st.integers(1, 5))
    ids = draw(st.lists(st.integers(0, 999), min_size=n_units, max_size=n_units, unique=True))
    units = [f"icb{i:03d}" for i in ids] if id_kind != "int" else ids
    timing = draw(st.sampled_from(["none", "treatment", "cohort"]))
    with_missing = draw(st.booleans())
    rows, spans, cohorts = [], {}, {}
    for u in units:
        start = draw(st.integers(0, 6))
        length = draw(st.integers(2, 10))
        spans[u] = (start, start + length - 1)
        # first treated index strictly after the unit's first period (or never)
        c = draw(st.one_of(st.none(), st.integers(start + 1, start + length - 1)))
        cohorts[u] = c
        for k in range(start, start + length):
            y = draw(st.one_of(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
                               st.just(float("nan"))) if with_missing else
                     st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
            rows.append({"unit": u, "when": _label(freq, style, k), "y": y, "_k": k,
                         "treat": int(c is not None and k >= c)})
    df = pd.DataFrame(rows)
    if id_kind == "categorical":
        df["unit"] = pd.Categorical(df["unit"])
    kwargs = {"unit": "unit", "time": "when", "outcome": "y"}
    if freq == "W" or (style == "string" and freq in ("D",)):
        kwargs["freq"] = freq
    if timing == "treatment":
        kwargs["treatment"] = "treat"
    elif timing == "cohort":
        df["first"] = [(_label(freq, style if style != "tz" else "timestamp", cohorts[u])
                        if cohorts[u] is not None else "never") for u in df["unit"]]
        if freq == "Y":
            df["first"] = [2000 + cohorts[u] if cohorts[u] is not None else 0 for u in df["unit"]]
        kwargs["cohort"] = "first"
    if df["y"].isna().any():
        kwargs["missing"] = "drop"
    expected = {(u, k): y for u, k, y in zip(df["unit"], df["_k"], df["y"]) if not np.isnan(y)}
    df = df.drop(columns="_k")
    return df, kwargs, expected, cohorts, freq


def _survivors(expected, cohorts, with_timing: bool) -> set:
    """Units left after missing='drop': some observed row, and (with timing) an observed
    period before the first treated one (else evalint drops the unit, with a warning)."""
    first_seen: dict = {}
    for u, k in expected:
        first_seen[u] = min(k, first_seen.get(u, k))
    return {u for u, k in first_seen.items()
            if not with_timing or cohorts[u] is None or k < cohorts[u]}


def _build(df, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return Panel.from_frame(df, **kwargs)


def _k_of(p: Panel, period: pd.Period, freq: str) -> int:
    """Independent index of ``period`` relative to the generator's base (calendar arithmetic)."""
    if freq == "M":
        return (period.year * 12 + period.month) - (BASE_MONTH[0] * 12 + BASE_MONTH[1])
    if freq == "Q":
        return (period.year * 4 + period.quarter - 1) - 2015 * 4
    if freq == "Y":
        return period.year - 2000
    d = period.start_time.date()
    if freq == "D":
        return (d - BASE_DAY).days
    return (d - BASE_DAY).days // 7


@SETTINGS
@given(panels(), st.randoms(use_true_random=False))
def test_permuting_rows_gives_the_same_panel(case, rnd):
    df, kwargs, _, _, _ = case
    order = list(range(len(df)))
    rnd.shuffle(order)
    try:
        a = _build(df, kwargs)
    except EvalintError as err:  # nothing left after drops: the same error either way
        with pytest.raises(type(err)):
            _build(df.iloc[order], kwargs)
        return
    b = _build(df.iloc[order], kwargs)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.fingerprint == b.fingerprint
    assert list(a.units) == list(b.units)
    if a.timing is None:
        assert b.timing is None
    else:
        pd.testing.assert_series_equal(a.timing.cohort, b.timing.cohort)
        pd.testing.assert_series_equal(a.relative_time(), b.relative_time())


@SETTINGS
@given(panels())
def test_to_matrix_round_trips_the_input_values(case):
    df, kwargs, expected, cohorts, freq = case
    alive = _survivors(expected, cohorts, "treatment" in kwargs or "cohort" in kwargs)
    if not alive:
        with pytest.raises(EvalintError):
            _build(df, kwargs)
        return
    p = _build(df, kwargs)
    expected = {key: y for key, y in expected.items() if key[0] in alive}
    m = p.to_matrix()
    assert set(m.index) == alive
    assert m.shape == (len(alive), p.n_periods)
    ks = [_k_of(p, per, freq) for per in m.columns]
    assert ks == list(range(ks[0], ks[0] + len(ks)))  # consecutive periods, no gaps
    seen = 0
    for u in m.index:
        for per, k in zip(m.columns, ks):
            value = m.at[u, per]
            if (u, k) in expected:
                assert value == expected[(u, k)]
                seen += 1
            else:
                assert np.isnan(value)
    assert seen == len(expected)


@SETTINGS
@given(panels())
def test_relative_time_is_the_period_difference(case):
    df, kwargs, expected, cohorts, freq = case
    if "treatment" not in kwargs and "cohort" not in kwargs:
        kwargs = {**kwargs, "treatment": "treat"}
    alive = _survivors(expected, cohorts, True)
    if not alive:
        with pytest.raises(EvalintError):
            _build(df, kwargs)
        return
    p = _build(df, kwargs)
    assert set(p.units) == alive
    assert {u: (None if pd.isna(c) else _k_of(p, c, freq)) for u, c in p.timing.cohort.items()} == \
        {u: cohorts[u] for u in alive}
    rel = p.relative_time()
    data = p.data
    for u, per, r in zip(data[p.unit], data[p.time], rel):
        c = cohorts[u]
        if c is None:
            assert np.isnan(r)
        else:
            assert r == _k_of(p, per, freq) - c
    treated = p.treated_indicator()
    assert (treated == (rel >= 0).astype(int)).all()


@SETTINGS
@given(panels())
def test_building_never_mutates_the_input(case):
    df, kwargs, _, _, _ = case
    before = df.copy(deep=True)
    dtypes = df.dtypes.copy()
    index = df.index.copy()
    try:
        _build(df, kwargs)
    except EvalintError:
        pass  # rejected inputs must not be mutated either
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_series_equal(df.dtypes, dtypes)
    assert df.index.equals(index)
