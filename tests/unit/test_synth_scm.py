"""Abadie SCM: known-truth simulations, several treated units, bad input, reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.errors import (
    DroppedRowsWarning,
    EvalintError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
)
from evalint.estimators.synth.matrices import Predictor
from evalint.estimators.synth.scm.estimator import SyntheticControl, synthetic_control
from evalint.estimators.synth.scm.weights import fit_scm_weights


def factor_frame(n_units=12, T=30, start=20, treated=("u0",), effect=-3.0, seed=0, noise=0.1,
                 hull_shift=0.0):
    """y_it = 50 + l_i f_t + e_it; treated units' loadings are convex combos of donors'."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=T))
    load = rng.uniform(0.5, 1.5, size=n_units)
    rows = []
    for i in range(n_units):
        u = f"u{i}"
        li = np.mean(load[5:8] if n_units >= 8 else load[1:]) if u in treated else load[i]
        for t in range(T):
            y = 50 + li * f[t] + rng.normal(scale=noise) + (hull_shift if u in treated else 0.0)
            d = int(u in treated and t >= start)
            rows.append({"unit": u, "time": 2000 + t, "y": y + effect * d, "x": li + rng.normal(scale=0.01),
                         "d": d})
    return pd.DataFrame(rows)


def make_panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="d", covariates=["x"], **kw)


def test_recovers_known_effect_outcome_only():
    res = synthetic_control(make_panel(factor_frame()), calendar=False)
    assert res.estimate == pytest.approx(-3.0, abs=0.25)
    assert res.plot_kind == "synth"
    assert res.tables["donor_weights"]["weight"].sum() == pytest.approx(1.0)
    assert res.p_value == pytest.approx(1 / 12)  # largest ratio of 12 units


def test_recovers_known_effect_with_predictors_and_nested_v():
    preds = (Predictor("x"), Predictor("y", 2005, 2005), Predictor("y", 2010, 2019))
    res = SyntheticControl(predictors=preds, leave_one_out=False).fit(make_panel(factor_frame()), calendar=False)
    assert res.estimate == pytest.approx(-3.0, abs=0.3)
    bal = res.tables["predictor_balance"]
    assert set(bal["predictor"]) == {"x[pre]", "y[2005]", "y[2010:2019]"}
    assert bal["v_weight"].sum() == pytest.approx(1.0)


def test_nested_v_not_worse_than_equal_or_regression_v():
    rng = np.random.default_rng(1)
    X0, Z0 = rng.normal(size=(4, 15)), rng.normal(size=(10, 15))
    X1, Z1 = rng.normal(size=4), rng.normal(size=10)
    losses = {m: fit_scm_weights(X1, X0, Z1, Z0, v_method=m)[2] for m in ("nested", "equal", "regression")}
    assert losses["nested"] <= min(losses["equal"], losses["regression"]) + 1e-12


def test_several_treated_units_average_of_per_unit_fits():
    df = factor_frame(treated=("u0", "u1"), n_units=14)
    panel = make_panel(df)
    res = synthetic_control(panel, calendar=False, leave_one_out=False)
    singles = []
    for u in ("u0", "u1"):
        donors = [f"u{i}" for i in range(2, 14)]
        singles.append(synthetic_control(panel, treated=u, donors=donors, calendar=False, leave_one_out=False).estimate)
    assert res.estimate == pytest.approx(np.mean(singles), abs=1e-12)
    assert set(res.info["att_by_unit"]) == {"u0", "u1"}
    assert 0 < res.p_value <= 1 and np.isfinite(res.se)


def test_results_identical_run_to_run():
    panel = make_panel(factor_frame(treated=("u0", "u1"), n_units=14))
    a = synthetic_control(panel, calendar=False, seed=3, leave_one_out=False)
    b = synthetic_control(panel, calendar=False, seed=3, leave_one_out=False)
    assert a.estimate == b.estimate and a.p_value == b.p_value and a.se == b.se
    pd.testing.assert_frame_equal(a.tables["placebo_gaps"], b.tables["placebo_gaps"])


def test_permuting_units_and_scaling_outcome():
    df = factor_frame()
    base = synthetic_control(make_panel(df), calendar=False, leave_one_out=False)
    shuffled = df.sample(frac=1.0, random_state=1)
    assert synthetic_control(make_panel(shuffled), calendar=False, leave_one_out=False).estimate == pytest.approx(
        base.estimate, abs=1e-9)
    scaled = df.assign(y=df["y"] * 4.0 + 10.0)
    res = synthetic_control(make_panel(scaled), calendar=False, leave_one_out=False)
    assert res.estimate == pytest.approx(4.0 * base.estimate, rel=1e-8)
    assert res.se == pytest.approx(4.0 * base.se, rel=1e-6)


def test_outside_convex_hull_is_flagged_with_rmspe():
    res = synthetic_control(make_panel(factor_frame(hull_shift=25.0)), calendar=False, leave_one_out=False)
    flags = [f for f in res.flags if f.kind == "diagnostic" and f.source == "scm_prefit"]
    assert flags and "RMSPE" in flags[0].message and flags[0].severity == "high"
    assert res.diagnostics[0].passed is False
    assert res.info["pre_rmspe"]["u0"] > 20


def test_identical_donor_is_flagged():
    df = factor_frame()
    twin = df.loc[df["unit"] == "u0"].assign(unit="twin", d=0)
    twin["y"] = twin["y"] + 3.0 * (twin["time"] >= 2020)  # untreated twin: identical pre-period
    res = synthetic_control(make_panel(pd.concat([df, twin])), calendar=False, leave_one_out=False)
    assert any(f.source == "scm_identical_donor" and "twin" in f.message for f in res.flags)
    w = res.tables["donor_weights"].set_index("unit")["weight"]
    assert w["twin"] == pytest.approx(1.0, abs=1e-8)
    assert res.estimate == pytest.approx(-3.0, abs=1e-9)


def test_too_few_pre_periods():
    df = factor_frame(T=12, start=1)
    with pytest.raises(SpecificationError, match="pre-treatment period"):
        synthetic_control(make_panel(df), calendar=False)


def test_few_pre_periods_flagged():
    df = factor_frame(T=12, start=3)
    res = synthetic_control(make_panel(df), calendar=False, leave_one_out=False)
    assert any("only 3 pre-treatment periods" in f.message for f in res.flags)


def test_missing_cells_are_listed():
    df = factor_frame()
    hole = ((df["unit"] == "u3") & df["time"].isin([2004, 2005])) | ((df["unit"] == "u7") & (df["time"] == 2011))
    df.loc[hole, "y"] = np.nan
    with pytest.warns(DroppedRowsWarning, match="3 row"):
        panel = Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="d", missing="drop")
    with pytest.raises(UnbalancedPanelError) as exc:
        synthetic_control(panel, calendar=False)
    msg = str(exc.value)
    assert "3 missing cell(s)" in msg and "'u3' at 2004" in msg and "'u7' at 2011" in msg


def test_fewer_than_two_donors():
    df = factor_frame(n_units=2)
    with pytest.raises(SpecificationError, match="at least 2 donor"):
        synthetic_control(make_panel(df), calendar=False)


def test_treated_unit_not_in_panel():
    panel = make_panel(factor_frame())
    with pytest.raises(SpecificationError, match="'Atlantis'.*not in the panel"):
        synthetic_control(panel, treated="Atlantis", intervention=2020, calendar=False)


def test_treatment_after_data_end_is_an_error():
    df = factor_frame(effect=0.0).assign(d=0)
    panel = Panel.from_frame(df, unit="unit", time="time", outcome="y")
    with pytest.raises(TreatmentError, match="after the data end"):
        synthetic_control(panel, treated="u0", intervention=2035, calendar=False)


def test_treatment_switching_off_is_an_error():
    df = factor_frame()
    df.loc[(df["unit"] == "u0") & (df["time"] == 2025), "d"] = 0
    with pytest.raises(TreatmentError, match="not absorbing"):
        make_panel(df)


def test_predictor_window_after_treatment_is_an_error():
    est = SyntheticControl(predictors=(Predictor("y", 2018, 2022),))
    with pytest.raises(SpecificationError, match="inside the pre-treatment"):
        est.fit(make_panel(factor_frame()), calendar=False)


def test_options_are_validated():
    with pytest.raises(SpecificationError):
        SyntheticControl(v_method="magic")
    with pytest.raises(SpecificationError):
        SyntheticControl(predictors=("y",))
    from evalint.inference.specs import NeweyWest

    with pytest.raises(EvalintError, match="supported: Placebo"):
        synthetic_control(make_panel(factor_frame()), inference=NeweyWest(), calendar=False)


def test_calendar_false_says_so():
    res = synthetic_control(make_panel(factor_frame()), calendar=False, leave_one_out=False)
    cal = [d for d in res.diagnostics if d.name == "policy_calendar"]
    assert cal and cal[0].passed is None


def test_policy_calendar_flags_with_default_calendar():
    pytest.importorskip("evalint.calendar.events")
    rng = np.random.default_rng(0)
    rows = []
    months = pd.period_range("2019-04", "2024-03", freq="M")
    for i in range(8):
        for k, m in enumerate(months):
            d = int(i == 0 and m >= pd.Period("2022-07", "M"))
            rows.append({"unit": f"icb{i}", "month": m, "emergency_admissions": 1000 + 10 * i + rng.normal(scale=5),
                         "d": d})
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                             treatment="d")
    res = synthetic_control(panel, leave_one_out=False)
    cal = [d for d in res.diagnostics if d.name == "policy_calendar"]
    assert cal and cal[0].passed in (True, False)
    assert all(f.kind == "confounding" for f in res.flags if f.event_id)


def test_leave_one_out_and_in_time_placebo():
    from evalint.estimators.synth.scm.placebo import in_time_placebo

    panel = make_panel(factor_frame())
    res = synthetic_control(panel, calendar=False)
    loo = res.tables["leave_one_out"]
    positive = res.tables["donor_weights"].query("weight > 1e-6")
    assert set(loo["dropped_donor"]) == set(positive["unit"])
    fake = in_time_placebo(SyntheticControl(leave_one_out=False), panel, 2015, treated="u0", actual_start=2020)
    assert abs(fake.estimate) < 0.3  # no effect before the real start


def test_plot_synth_for_scm_and_generic_synth_results():
    import matplotlib

    matplotlib.use("Agg")
    from evalint.plotting.synth import plot_synth
    from evalint.results.effect import InferenceInfo, make_result

    res = synthetic_control(make_panel(factor_frame(treated=("u0", "u1"), n_units=14)), calendar=False,
                            leave_one_out=False)
    fig = res.plot()
    assert len(fig.axes) == 3
    assert len(fig.axes[1].lines) >= 12  # 12 placebo gaps + the treated gap
    assert len(plot_synth(res, unit="u1").axes) == 3
    # a generic synth-family result (e.g. SDID): series without unit/gap/post columns, placebo
    # gaps without a placebo column, donor weights without treated_unit
    times = [str(2000 + t) for t in range(10)]
    generic = make_result(
        method="Synthetic DiD", estimand="ATT", term="att", outcome="y", estimate=-1.0, se=0.5,
        inference=InferenceInfo("placebo", "placebo"), plot_kind="synth", intervention="2007",
        series=pd.DataFrame({"time": times, "treated": np.arange(10.0), "synthetic": np.arange(10.0) + 0.5}),
        tables={"placebo_gaps": pd.DataFrame({"unit": ["a"] * 10 + ["b"] * 10, "time": times * 2,
                                              "gap": np.zeros(20)}),
                "donor_weights": pd.DataFrame({"unit": ["a", "b"], "weight": [0.4, 0.6]})})
    fig = generic.plot()
    assert len(fig.axes) == 3 and len(fig.axes[1].lines) >= 3


# ----------------------------------------------------------------------------- audit (issue 5)
def _reverse_donor_order(df, keep=("u0",)):
    """Rename donors so that the panel's (sorted) donor order is reversed."""
    donors = sorted(u for u in df["unit"].unique() if u not in keep)
    rename = {u: f"z{len(donors) - k:03d}" for k, u in enumerate(donors)}
    return df.assign(unit=df["unit"].replace(rename)), rename


@pytest.mark.parametrize("spec", ["outcome_only", "regression_v"])
def test_permuting_donor_order_leaves_fit_unchanged(spec):
    # Panel.from_frame sorts units, so shuffling rows does not reorder donors; renaming does.
    df = factor_frame()
    kw = {} if spec == "outcome_only" else {
        "predictors": (Predictor("x"), Predictor("y", 2005, 2005), Predictor("y", 2010, 2019)),
        "v_method": "regression"}
    base = synthetic_control(make_panel(df), calendar=False, leave_one_out=False, **kw)
    perm_df, rename = _reverse_donor_order(df)
    res = synthetic_control(make_panel(perm_df), calendar=False, leave_one_out=False, **kw)
    assert list(res.tables["donor_weights"]["unit"])[:3] != [rename[u] for u in
                                                           base.tables["donor_weights"]["unit"]][:3]
    w0 = base.tables["donor_weights"].set_index("unit")["weight"].rename(index=rename)
    w1 = res.tables["donor_weights"].set_index("unit")["weight"]
    np.testing.assert_allclose(w1.reindex(w0.index).to_numpy(), w0.to_numpy(), atol=1e-9)
    assert res.estimate == pytest.approx(base.estimate, abs=1e-9)
    if spec == "outcome_only":
        # with 3 predictors and 10 donors a placebo unit inside the hull has many exact fits
        # (W(V) is not unique; Abadie 2021, Section 7), so only the outcome-only placebos
        # (20 pre-periods > 10 donors: unique weights) are compared
        assert res.p_value == base.p_value
        assert res.se == pytest.approx(base.se, rel=1e-7)


def test_affine_outcome_change_with_predictors_and_regression_v():
    # Predictors are standardised, weights sum to one and the regression V has an intercept:
    # y -> 4y + 10 leaves V and W unchanged, so the gap scales by 4 and the level shift cancels.
    preds = (Predictor("x"), Predictor("y", 2005, 2005), Predictor("y", 2010, 2019))
    df = factor_frame()
    kw = {"predictors": preds, "v_method": "regression", "calendar": False, "leave_one_out": False}
    base = synthetic_control(make_panel(df), **kw)
    res = synthetic_control(make_panel(df.assign(y=4.0 * df["y"] + 10.0)), **kw)
    np.testing.assert_allclose(res.tables["predictor_balance"]["v_weight"],
                               base.tables["predictor_balance"]["v_weight"], atol=1e-10)
    np.testing.assert_allclose(res.tables["donor_weights"]["weight"], base.tables["donor_weights"]["weight"],
                               atol=1e-9)
    assert res.estimate == pytest.approx(4.0 * base.estimate, rel=1e-8)


def test_balance_and_weight_tables_match_direct_computation():
    # Everything recomputed from the raw frame with pandas: window means, weighted donor means,
    # the synthetic path and the pre-period RMSPE.
    df = factor_frame(seed=5)
    preds = (Predictor("x"), Predictor("y", 2005, 2005), Predictor("y", 2010, 2019))
    res = SyntheticControl(predictors=preds, leave_one_out=False).fit(make_panel(df), calendar=False)
    w = res.tables["donor_weights"].set_index("unit")["weight"]
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12) and len(w) == 11
    windows = {"x[pre]": ("x", 2000, 2019), "y[2005]": ("y", 2005, 2005), "y[2010:2019]": ("y", 2010, 2019)}
    bal = res.tables["predictor_balance"].set_index("predictor")
    for name, (var, lo, hi) in windows.items():
        m = df.loc[df["time"].between(lo, hi)].groupby("unit")[var].mean()
        assert bal.loc[name, "treated"] == pytest.approx(m["u0"], rel=1e-12)
        assert bal.loc[name, "synthetic"] == pytest.approx(float(m[w.index] @ w), rel=1e-12)
        assert bal.loc[name, "donor_mean"] == pytest.approx(m[w.index].mean(), rel=1e-12)
    Y = df.pivot(index="time", columns="unit", values="y")
    synth = Y[w.index].to_numpy() @ w.to_numpy()
    np.testing.assert_allclose(res.series["synthetic"], synth, rtol=1e-12)
    gap_pre = (Y["u0"].to_numpy() - synth)[:20]
    assert res.info["pre_rmspe"]["u0"] == pytest.approx(np.sqrt(np.mean(gap_pre**2)), rel=1e-10)
    assert res.estimate == pytest.approx(np.mean((Y["u0"].to_numpy() - synth)[20:]), rel=1e-10)


def test_poor_prefit_inside_hull_is_a_medium_flag_quoting_the_rmspe():
    # Treated unit inside the donors' range; RMSPE about 0.2% of its level. A tolerance below that
    # must give the medium "poor fit" flag (not the high convex-hull one), quoting the RMSPE.
    df = factor_frame(seed=2)
    res = synthetic_control(make_panel(df), calendar=False, leave_one_out=False, prefit_tolerance=1e-3)
    s = res.series.loc[~res.series["post"]]
    rmspe = float(np.sqrt(np.mean((s["treated"] - s["synthetic"]) ** 2)))
    level = float(np.mean(np.abs(s["treated"])))
    Y = df.pivot(index="time", columns="unit", values="y").iloc[:20]
    donors = Y.drop(columns="u0")
    outside = ((Y["u0"] > donors.max(axis=1)) | (Y["u0"] < donors.min(axis=1))).mean()
    assert rmspe / level > 1e-3 and outside <= 0.5  # the situation the flag is for
    flags = [f for f in res.flags if f.source == "scm_prefit"]
    assert len(flags) == 1 and flags[0].severity == "medium"
    assert f"RMSPE {rmspe:.4g}" in flags[0].message and f"{rmspe / level:.1%}" in flags[0].message
    assert res.diagnostics[0].passed is False and res.diagnostics[0].statistic == pytest.approx(rmspe)
    # the same data with the default 10% tolerance passes
    ok = synthetic_control(make_panel(df), calendar=False, leave_one_out=False)
    assert not [f for f in ok.flags if f.source == "scm_prefit"] and ok.diagnostics[0].passed is True


def test_treatment_at_or_before_data_start_is_an_error():
    panel = Panel.from_frame(factor_frame(effect=0.0).drop(columns="d"), unit="unit", time="time", outcome="y")
    with pytest.raises(TreatmentError, match="at or before the data start"):
        synthetic_control(panel, treated="u0", intervention=2000, calendar=False)


def test_treated_or_overlapping_donors_are_errors():
    df = factor_frame(treated=("u0", "u1"), n_units=14)
    panel = make_panel(df)
    with pytest.raises(TreatmentError, match=r"'u1'.*themselves treated"):
        synthetic_control(panel, treated="u0", donors=[f"u{i}" for i in range(1, 14)], calendar=False)
    with pytest.raises(SpecificationError, match="both treated and donors"):
        synthetic_control(panel, treated="u0", donors=[f"u{i}" for i in range(14) if i != 1],
                          calendar=False)
    with pytest.raises(SpecificationError, match="'nowhere'.*not in the panel"):
        synthetic_control(panel, treated="u0", donors=["u2", "u3", "nowhere"], calendar=False)


def test_several_treated_units_with_different_starts():
    df = factor_frame(treated=("u0", "u1"), n_units=14)
    df["d"] = np.where((df["unit"] == "u1") & (df["time"] < 2023), 0, df["d"])
    df["y"] = np.where((df["unit"] == "u1") & df["time"].between(2020, 2022), df["y"] + 3.0, df["y"])
    panel = make_panel(df)
    res = synthetic_control(panel, calendar=False, leave_one_out=False)
    donors = [f"u{i}" for i in range(2, 14)]
    plain = Panel.from_frame(df.drop(columns="d"), unit="unit", time="time", outcome="y")
    singles = {u: synthetic_control(plain, treated=u, intervention=start, donors=donors, calendar=False,
                                    leave_one_out=False) for u, start in (("u0", 2020), ("u1", 2023))}
    assert res.estimate == pytest.approx(np.mean([r.estimate for r in singles.values()]), abs=1e-10)
    summ = res.tables["placebo_summary"]
    for u, single in singles.items():
        own = summ.loc[(summ["treated_unit"] == u) & ~summ["placebo"]].iloc[0]
        assert own["p_value"] == pytest.approx(single.p_value)
        assert len(summ.loc[summ["treated_unit"] == u]) == 13
    assert res.series.groupby("unit")["post"].sum().to_dict() == {"u0": 10, "u1": 7}


def test_policy_calendar_flags_are_attached_by_every_synth_estimator():
    # SCM, ASCM and SDID each run the calendar check (design="synth") and attach its flags: the
    # event ids must be those of PolicyCalendar.check on the same window, units and outcome.
    from evalint.calendar import PolicyCalendar
    from evalint.estimators.synth.augmented.estimator import augmented_synthetic_control
    from evalint.estimators.synth.sdid.estimator import synthetic_did

    rng = np.random.default_rng(1)
    months = pd.period_range("2019-04", "2024-03", freq="M")
    rows = [{"unit": f"icb{i}", "month": m, "emergency_admissions": 1000 + 10 * i + rng.normal(scale=5),
             "d": int(i == 0 and m >= pd.Period("2022-07", "M"))} for i in range(8) for m in months]
    panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="month", outcome="emergency_admissions",
                             treatment="d")
    ref = PolicyCalendar.default().check("2022-07", outcome="emergency_admissions", pre=39, post=21, freq="M",
                                         treated_units=["icb0"], comparison_units=[f"icb{i}" for i in range(1, 8)],
                                         design="synth")
    expected = {f.event_id for f in ref.flags if f.event_id}
    assert expected  # the window 2019-2024 holds national events (COVID, discharge funding, ...)
    for res in (synthetic_control(panel, leave_one_out=False), augmented_synthetic_control(panel),
                synthetic_did(panel, reps=20)):
        got = {f.event_id for f in res.flags if f.event_id}
        assert got == expected, res.method
        cal = [d for d in res.diagnostics if d.name == "policy_calendar"]
        assert len(cal) == 1 and cal[0].passed == ref.passed
