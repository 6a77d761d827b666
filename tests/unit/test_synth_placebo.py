"""Placebo inference for SCM: rank p-values, refits, several treated units, size under the null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import InferenceError
from evalint.estimators.synth.placebo import rank_p_value
from evalint.estimators.synth.scm import synthetic_control


def null_frame(n_units=10, T=24, start=16, seed=0, effect=0.0, treated=("u0",)):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(T, 2)), axis=0)
    rows = []
    for i in range(n_units):
        u = f"u{i}"
        load = rng.uniform(0.5, 1.5, size=2)  # treated unit exchangeable with donors
        for t in range(T):
            d = int(u in treated and t >= start)
            rows.append({"unit": u, "time": 1990 + t, "y": 30 + f[t] @ load + rng.normal(scale=0.5) + effect * d,
                         "d": d})
    return pd.DataFrame(rows)


def panel_of(df):
    return Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="d")


def test_rank_p_value_closed_form():
    assert rank_p_value(10.0, [1.0, 2.0, 3.0]) == (0.25, 1)
    assert rank_p_value(2.0, [1.0, 2.0, 3.0]) == (0.75, 3)  # ties count against the treated unit
    with pytest.raises(InferenceError):
        rank_p_value(1.0, [])


def test_placebo_table_rows_are_direct_refits():
    df = null_frame(effect=-5.0)
    res = synthetic_control(panel_of(df), calendar=False, leave_one_out=False)
    summ = res.tables["placebo_summary"]
    assert len(summ) == 10 and summ["placebo"].sum() == 9
    # refit donor u4 as if treated, against the other donors (u0, the treated unit, excluded)
    plain = Panel.from_frame(df.drop(columns="d"), unit="unit", time="time", outcome="y")
    donors = [f"u{i}" for i in range(1, 10) if i != 4]
    direct = synthetic_control(plain, treated="u4", intervention=2006, donors=donors, calendar=False,
                               leave_one_out=False)
    row = summ.set_index("unit").loc["u4"]
    assert row["att"] == pytest.approx(direct.estimate, abs=1e-10)
    gaps = res.tables["placebo_gaps"]
    assert set(gaps.columns) >= {"unit", "time", "gap", "placebo"}
    assert len(gaps) == 10 * 24
    # p-value is the rank of the treated ratio among all 10
    ratios = summ.set_index("unit")["ratio"]
    expected = (1 + (ratios.drop("u0") >= ratios["u0"]).sum()) / 10
    assert res.p_value == pytest.approx(expected)
    assert res.se == pytest.approx(np.std(summ.loc[summ["placebo"], "att"], ddof=1))


def test_rank_test_has_nominal_size_under_the_null():
    # Treated unit exchangeable with 9 donors and no effect: P(p <= 0.1) = 1/10 exactly.
    # 150 replications: binomial sd 0.0245; accept [0.03, 0.19] (about +/- 3.6 sd).
    rejections = 0
    n = 150
    for s in range(n):
        res = synthetic_control(panel_of(null_frame(seed=1000 + s)), calendar=False, leave_one_out=False)
        rejections += res.p_value <= 0.1 + 1e-12
    assert 0.03 <= rejections / n <= 0.19


def test_several_treated_units_joint_p_value_reproducible():
    df = null_frame(n_units=14, treated=("u0", "u1"), effect=-8.0)
    a = synthetic_control(panel_of(df), calendar=False, seed=7, leave_one_out=False)
    b = synthetic_control(panel_of(df), calendar=False, seed=7, leave_one_out=False)
    assert a.p_value == b.p_value
    assert 1 / 1001 <= a.p_value < 0.05  # a large effect on both units
    summ = a.tables["placebo_summary"]
    assert set(summ.loc[~summ["placebo"], "unit"]) == {"u0", "u1"}
    # placebo donors never include a treated unit
    assert not set(summ.loc[summ["placebo"], "unit"]) & {"u0", "u1"}


def test_too_few_donors_for_placebos_is_flagged_not_silent():
    df = null_frame(n_units=3)
    res = synthetic_control(panel_of(df), calendar=False, leave_one_out=False)
    assert np.isnan(res.se)
    assert any(f.kind == "inference" and "at least 3 donors" in f.message for f in res.flags)
    assert "no placebo inference" in res.inference.note
