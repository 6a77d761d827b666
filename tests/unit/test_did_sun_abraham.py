"""Sun-Abraham interaction-weighted event study.

Asserted numbers come from closed forms computed here with pandas (on a balanced panel
the saturated regression's cohort x relative-period coefficient is the 2x2 DiD of that
cohort against the control cohort between period g+l and the reference period g-1;
the IW effect is the cohort-share weighted mean) or from simulations with a known truth.
Peer cross-checks (diff-diff, pyfixest) are in test_did_a2_peers.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.data.panel import Panel
from evalint.errors import (
    FewClustersWarning,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelWarning,
)
from evalint.estimators.did.staggered import example_staggered_panel
from evalint.estimators.did.sun_abraham import SunAbraham, sun_abraham


def _frame(seed=0, starts=(3, 5), n_per=(4, 6), n_never=6, T=8, effect=lambda g, e: 1.0 + 0.5 * e, noise=0.5):
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2021-01", periods=T, freq="Q")
    b = rng.normal(0, 1, T)
    coh = [s for s, n in zip(starts, n_per) for _ in range(n)] + [-1] * n_never
    rows = []
    for i, g in enumerate(coh):
        a = rng.normal(0, 1)
        for t in range(T):
            tau = effect(g, t - g) if g >= 0 and t >= g else 0.0
            rows.append({"unit": f"u{i:02d}", "q": periods[t], "y": a + b[t] + tau + rng.normal(0, noise),
                         "cohort": periods[g] if g >= 0 else None, "g": g, "t": t})
    return pd.DataFrame(rows)


def _panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="q", outcome="y", cohort="cohort", **kw)


def _did(df, g, e, control_mask):
    m = df.groupby(["g", "t"])["y"].mean()
    ctrl = df[control_mask].groupby("t")["y"].mean()
    return (m[(g, g + e)] - m[(g, g - 1)]) - (ctrl[g + e] - ctrl[g - 1])


def test_cohort_effects_are_2x2_dids_against_never_treated():
    df = _frame(seed=1)
    r = sun_abraham(_panel(df), calendar=False)
    coef = r.coefficients.dropna(subset=["rel_time"])
    assert len(coef) == 2 * 7  # two cohorts, 8 relative periods each minus the reference
    for row in coef.itertuples():
        g = 3 if row.group == str(pd.Period("2021-01", "Q") + 3) else 5
        assert row.estimate == pytest.approx(_did(df, g, int(row.rel_time), df.g < 0), abs=1e-10)


def test_iw_effects_weight_cohorts_by_share_and_headline_weights_cells():
    df = _frame(seed=2)
    r = sun_abraham(_panel(df), calendar=False)
    eff = r.effects.set_index("rel_time")
    # e = 0..2 observed for both cohorts (4 and 6 units): weights 0.4 / 0.6
    for e in (0, 1, 2):
        want = 0.4 * _did(df, 3, e, df.g < 0) + 0.6 * _did(df, 5, e, df.g < 0)
        assert eff.loc[float(e), "estimate"] == pytest.approx(want, abs=1e-10)
    # e = 3, 4 only cohort 3
    assert eff.loc[4.0, "estimate"] == pytest.approx(_did(df, 3, 4, df.g < 0), abs=1e-10)
    # headline: every treated post cell equally weighted
    cells = [(3, e) for e in range(5) for _ in range(4)] + [(5, e) for e in range(3) for _ in range(6)]
    want = np.mean([_did(df, g, e, df.g < 0) for g, e in cells])
    assert r.estimate == pytest.approx(want, abs=1e-10)
    # reference period: a zero row, stated in info
    assert eff.loc[-1.0, "estimate"] == 0.0 and np.isnan(eff.loc[-1.0, "std_error"])
    assert r.info["reference_period"].startswith("-1")
    assert "reference_period" in str(r.summary())


def test_anticipation_moves_the_reference_period():
    df = _frame(seed=3)
    r = SunAbraham(anticipation=1).fit(_panel(df), calendar=False)
    assert r.info["reference_period"].startswith("-2")
    eff = r.effects.set_index("rel_time")
    assert eff.loc[-2.0, "estimate"] == 0.0
    m = df.groupby(["g", "t"])["y"].mean()
    ctrl = df[df.g < 0].groupby("t")["y"].mean()
    want3 = (m[(3, 3)] - m[(3, 1)]) - (ctrl[3] - ctrl[1])
    coef = r.coefficients.set_index("term")
    assert coef.loc["cohort 2021Q4, e=0", "estimate"] == pytest.approx(want3, abs=1e-10)


def test_no_never_treated_needs_last_treated_control():
    df = _frame(seed=4, n_never=0)
    with pytest.raises(TreatmentError, match="control='last_treated'"):
        sun_abraham(_panel(df), calendar=False)
    r = sun_abraham(_panel(df), control="last_treated", calendar=False)
    # cohort 3 against cohort 5 over periods 0..4
    sub = df[df.t < 5]
    for e in (0, 1):
        assert r.effects.set_index("rel_time").loc[float(e), "estimate"] == pytest.approx(
            _did(sub, 3, e, sub.g == 5), abs=1e-10)
    assert "last-treated cohort" in r.info["control"]
    assert r.n_obs == 10 * 5


def test_pre_trend_wald_check_and_flag():
    df = _frame(seed=5, n_per=(8, 8), n_never=10)
    lead = (df.g >= 0) & (df.t < df.g)
    df.loc[lead, "y"] += 1.0 * (df.t - df.g)[lead]
    r = sun_abraham(_panel(df), calendar=False, pretrend="wald")
    chk = next(d for d in r.diagnostics if d.name == "pre_trend_wald")
    assert chk.passed is False and chk.p_value < 0.01
    assert any(f.source == "pre_trend_wald" and f.kind == "diagnostic" for f in r.flags)


def test_one_unit_cohort_and_unbalanced_panel_warn():
    df = _frame(seed=6, n_per=(1, 5))
    with pytest.warns(FewClustersWarning, match="single unit"):
        r = sun_abraham(_panel(df), calendar=False)
    assert any("not identified" in f.message for f in r.flags)
    dfu = df[~((df.unit == "u03") & (df.t == 7))]
    with pytest.warns(UnbalancedPanelWarning, match="1 missing unit-period cell"), \
            pytest.warns(FewClustersWarning):
        ru = sun_abraham(_panel(dfu), calendar=False)
    assert ru.n_obs == len(dfu)


def test_bad_inference_and_options():
    df = _frame()
    from evalint.inference.specs import Clustered

    with pytest.raises(SpecificationError):
        SunAbraham(control="not_yet_treated")
    from evalint.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="region"):  # a cluster column the panel does not hold
        SunAbraham().fit(_panel(df), inference=Clustered(by="region"), calendar=False)
    # CR2: same point estimates, Satterthwaite df per contrast below G - 1
    r1 = SunAbraham().fit(_panel(df), calendar=False)
    r2 = SunAbraham().fit(_panel(df), inference=Clustered(kind="CR2"), calendar=False)
    assert r2.estimate == r1.estimate and r2.se != r1.se
    assert r2.inference.name == "CR2" and 1 < r2.inference.df < df.unit.nunique() - 1
    assert r1.inference.df == df.unit.nunique() - 1
    with pytest.raises(SpecificationError, match="treatment timing"):
        SunAbraham().fit(Panel.from_frame(df, unit="unit", time="q", outcome="y"), calendar=False)


def test_covariate_constant_within_unit_is_refused():
    df = _frame()
    df["z"] = df.unit.str[1:].astype(float) ** 2  # constant within each unit
    with pytest.raises(SpecificationError, match="'z'"):
        sun_abraham(_panel(df, covariates=["z"]), calendar=False)


def test_simulation_unbiased_with_nominal_coverage():
    effect = lambda g, e: 0.5 + 0.4 * e
    starts, n_per, T = (4, 7, 9), 6, 12
    truth = float(np.mean([effect(g, e) for g in starts for _ in range(n_per) for e in range(T - g)]))
    reps = 100
    est, cover = [], []
    for s in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = SunAbraham().fit(example_staggered_panel(seed=3000 + s, effect=effect), calendar=False)
        est.append(r.estimate)
        cover.append(r.ci[0] <= truth <= r.ci[1])
    est = np.array(est)
    assert abs(est.mean() - truth) < 3 * est.std(ddof=1) / np.sqrt(reps)
    lo, hi = stats.binom.ppf([0.001, 0.999], reps, 0.95)
    assert lo <= sum(cover) <= hi


@pytest.mark.slow
def test_simulation_event_time_coverage_large():
    effect = lambda g, e: 0.5 + 0.4 * e
    reps = 500
    hits = np.zeros(3)
    for s in range(reps):
        r = SunAbraham().fit(example_staggered_panel(seed=9000 + s, effect=effect), calendar=False)
        eff = r.effects.set_index("rel_time")
        for j, e in enumerate((0, 1, 2)):
            hits[j] += eff.loc[float(e), "conf_low"] <= effect(0, e) <= eff.loc[float(e), "conf_high"]
    lo, hi = stats.binom.ppf([0.001, 0.999], reps, 0.95)
    assert ((lo <= hits) & (hits <= hi)).all()


def test_ics_waves_last_treated_control_recovers_truth():
    # 42 simulated ICBs adopting in their ICS waves, none never treated: the last wave
    # (April 2021) is the control; known truth from simulate_nhs over the cells used
    from evalint.datasets import simulate_nhs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_nhs(seed=1, adoption="ics_waves", covid=False,
                           effects={"length_of_stay": {"path": [0.0, -0.1, -0.2, -0.3, -0.4]}})
        panel = sim.panel.with_outcome("length_of_stay")
        r = sun_abraham(panel, control="last_treated")
    t = sim.truth
    last = panel.timing.cohorts[-1]
    truth = t.loc[(t.outcome == "length_of_stay") & (t.treated == 1) & (t.month < last), "effect"].mean()
    assert abs(r.estimate - truth) < 4 * r.se
    assert r.inference.clusters == 42 and r.inference.df == 41  # the control wave stays in
    assert any(d.name == "policy_calendar" for d in r.diagnostics)
