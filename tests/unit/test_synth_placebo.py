"""Placebo inference for SCM: rank p-values, refits, several treated units, size under the null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import InferenceError
from evalint.inference.placebo_rank import rank_p_value
from evalint.estimators.synth.scm.estimator import synthetic_control
from evalint.inference.specs import Placebo


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
    # a large effect on both units: the joint statistic exceeds every one of the 1,000 random
    # placebo draws, so p is the smallest attainable value, 1 / (1000 + 1)
    assert a.p_value == pytest.approx(1 / 1001, rel=1e-12)
    # the seed the draws used is the one reported
    assert a.inference.seed == 7 and "seed 7" in a.inference.description
    c = synthetic_control(panel_of(df), calendar=False, seed=7, leave_one_out=False,
                          inference=Placebo(reps=200, seed=3))
    assert c.inference.seed == 3 and "seed 3" in c.inference.description
    assert c.p_value == pytest.approx(1 / 201, rel=1e-12)
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


# ----------------------------------------------------------------------------- audit (issue 5)
def test_in_time_placebo_is_a_refit_on_the_pre_period_only():
    from evalint.errors import SpecificationError
    from evalint.estimators.synth.scm.placebo import in_time_placebo
    from evalint.estimators.synth.scm.estimator import SyntheticControl

    df = null_frame(effect=-5.0)
    est = SyntheticControl(leave_one_out=False)
    fake = in_time_placebo(est, panel_of(df), 2001, treated="u0", actual_start=2006)
    # the same fit by hand: data before 2006 only, no treatment column, start moved to 2001
    pre = df.loc[df["time"] < 2006].drop(columns="d")
    direct = synthetic_control(Panel.from_frame(pre, unit="unit", time="time", outcome="y"), treated="u0",
                               intervention=2001, calendar=False, leave_one_out=False)
    assert fake.estimate == pytest.approx(direct.estimate, abs=1e-12)
    assert fake.p_value == direct.p_value
    assert fake.series["time"].iloc[-1] == "2005"
    # data after the real start are not used: changing them changes nothing
    later = df.assign(y=np.where(df["time"] >= 2006, df["y"] + 100.0, df["y"]))
    again = in_time_placebo(est, panel_of(later), 2001, treated="u0", actual_start=2006)
    assert again.estimate == fake.estimate
    with pytest.raises(SpecificationError, match="must be before the actual intervention"):
        in_time_placebo(est, panel_of(df), 2006, treated="u0", actual_start=2006)
    with pytest.raises(SpecificationError, match="pre-treatment period"):
        in_time_placebo(est, panel_of(df), 1991, treated="u0", actual_start=2006)


def test_leave_one_out_rows_are_direct_refits():
    df = null_frame(effect=-5.0, seed=3)
    res = synthetic_control(panel_of(df), calendar=False)
    loo = res.tables["leave_one_out"]
    w = res.tables["donor_weights"].set_index("unit")["weight"]
    assert len(loo) == int((w > 1e-6).sum()) >= 2
    donors = [f"u{i}" for i in range(1, 10)]
    for row in loo.itertuples():
        direct = synthetic_control(panel_of(df), treated="u0", donors=[d for d in donors if d != row.dropped_donor],
                                   calendar=False, leave_one_out=False)
        assert row.att == pytest.approx(direct.estimate, abs=1e-12)
        assert row.pre_rmspe == pytest.approx(direct.info["pre_rmspe"]["u0"], abs=1e-12)
        assert row.weight == pytest.approx(w[row.dropped_donor])


def test_placebo_gap_plot_draws_each_placebo_and_can_drop_poor_prefits():
    # ADH (2010) Figures 5-7 drop placebos whose pre-period MSPE exceeds k times the treated
    # unit's; max_pre_mspe_ratio=k does that, and the lines drawn are the table's gaps.
    import matplotlib

    matplotlib.use("Agg")
    from evalint.plotting.synth import plot_synth

    res = synthetic_control(panel_of(null_frame(effect=-5.0, seed=4)), calendar=False, leave_one_out=False)
    summ = res.tables["placebo_summary"]
    gaps = res.tables["placebo_gaps"]
    fig = plot_synth(res, max_pre_mspe_ratio=None)  # keep every placebo (the default drops > 5x)
    grey = [ln for ln in fig.axes[1].lines if ln.get_color() == "0.7" and len(ln.get_xdata())]
    assert len(grey) == 9
    drawn = sorted(tuple(np.round(ln.get_ydata(), 12)) for ln in grey)
    expected = sorted(tuple(np.round(g["gap"].to_numpy(), 12)) for _, g in gaps.loc[gaps["placebo"]].groupby("unit"))
    assert drawn == expected
    own = float(summ.loc[~summ["placebo"], "pre_mspe"].iloc[0])
    k = float(np.median(summ.loc[summ["placebo"], "pre_mspe"]) / own)
    keep = int((summ.loc[summ["placebo"], "pre_mspe"] <= k * own).sum())
    assert 0 < keep < 9
    fig = plot_synth(res, max_pre_mspe_ratio=k)
    grey = [ln for ln in fig.axes[1].lines if ln.get_color() == "0.7" and len(ln.get_xdata())]
    assert len(grey) == keep
    assert any(f"{9 - keep} with pre-period MSPE" in t.get_text() for t in fig.axes[1].get_legend().get_texts())
