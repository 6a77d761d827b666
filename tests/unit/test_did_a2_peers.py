"""Cross-checks of Sun-Abraham, the imputation estimator and the Goodman-Bacon
decomposition against peer packages (the ``peers`` extra), run on simulated staggered
panels inside the test.

Conventions aligned:

* Sun-Abraham: diff-diff ``SunAbraham`` (unit-clustered HC1 = CR1 with fixest's nested
  rule) and pyfixest ``event_study(estimator="saturated").aggregate()`` agree with each
  other and with evalint: event-time IW effects, their SEs, the cell-weighted post
  average and its SE, to 1e-6. Both treat cohort shares as fixed. CR2: diff-diff
  ``vcov_type="hc2_bm"`` (Bell-McCaffrey, Satterthwaite df per contrast): SEs and CIs.
* Imputation: diff-diff ``ImputationDiD`` implements BJS Theorem 3 with the same
  auxiliary partitions and the App. A.9 leave-one-out option; overall, event-time and
  per-cohort estimates and SEs agree to 1e-6 for every partition, with and without
  leave-one-out. pyfixest ``did2s`` (Gardner's
  two-stage estimator) gives the same overall point estimate (1e-6; its demeaning is
  iterative); its SE is the two-stage GMM SE, a different estimator, and is not compared.
* Bacon: diff-diff ``BaconDecomposition`` (exact weights): every 2x2 weight and estimate
  and the TWFE coefficient to 1e-10.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.did.bacon import bacon_decomposition
from evalint.estimators.did.imputation.estimator import ImputationDiD
from evalint.estimators.did.staggered import example_staggered_panel
from evalint.estimators.did.sun_abraham import SunAbraham, sun_abraham

pytestmark = pytest.mark.peers


def _peer_frame(panel: Panel) -> pd.DataFrame:
    d = panel.data.copy()
    first = panel.periods[0].ordinal
    d["t"] = d[panel.time].map(lambda x: x.ordinal - first + 1).astype(int)
    coh = panel.timing.cohort
    d["ft"] = d[panel.unit].map(lambda u: 0 if pd.isna(coh[u]) else coh[u].ordinal - first + 1).astype(int)
    d["treat"] = ((d.ft > 0) & (d.t >= d.ft)).astype(int)
    d["unit"] = d[panel.unit].astype(str)
    return d


def _panels():
    bal = example_staggered_panel(seed=21, covariate=True, n_per_cohort=5, starts=(3, 6, 8, 9))
    d = _peer_frame(bal)
    # unbalanced: some units enter late / leave early (no interior gaps)
    keep = ~((d.unit.isin(["u000", "u006", "u021"])) & (d.t <= 2)) & ~((d.unit == "u012") & (d.t == 12))
    dd_ = d.loc[keep]
    unbal = Panel.from_frame(dd_.assign(cohort=dd_.unit.map(bal.timing.cohort)), unit="unit", time="month",
                             outcome="y", cohort="cohort", covariates=["x"])
    return {"balanced": bal, "unbalanced": unbal}


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


PANELS = _panels()


@pytest.mark.parametrize("which", ["balanced", "unbalanced"])
@pytest.mark.parametrize("covariates", [False, True])
def test_sun_abraham_vs_diff_diff(which, covariates):
    dd = pytest.importorskip("diff_diff")
    panel = PANELS[which]
    if not covariates:
        d0 = panel.data
        panel = Panel.from_frame(d0.assign(cohort=d0["unit"].map(panel.timing.cohort)), unit="unit",
                                 time="month", outcome="y", cohort="cohort")
    r = _quiet(sun_abraham, panel, calendar=False)
    d = _peer_frame(panel)
    peer = _quiet(dd.SunAbraham().fit, d, outcome="y", unit="unit", time="t", first_treat="ft",
                  covariates=["x"] if covariates else None)
    assert r.estimate == pytest.approx(peer.overall_att, abs=1e-6)
    assert r.se == pytest.approx(peer.overall_se, abs=1e-6)
    eff = r.effects.set_index("rel_time")
    for e, v in peer.event_study_effects.items():
        assert eff.loc[float(e), "estimate"] == pytest.approx(v["effect"], abs=1e-6)
        assert eff.loc[float(e), "std_error"] == pytest.approx(v["se"], abs=1e-6)
    assert len(peer.event_study_effects) == int(eff["std_error"].notna().sum())


def test_sun_abraham_cr2_vs_diff_diff_hc2_bm():
    # CR2 (Bell-McCaffrey) SEs and Satterthwaite-df intervals per event time
    dd = pytest.importorskip("diff_diff")
    from evalint.inference.specs import Clustered

    d0 = PANELS["balanced"].data
    panel = Panel.from_frame(d0.assign(cohort=d0["unit"].map(PANELS["balanced"].timing.cohort)), unit="unit",
                             time="month", outcome="y", cohort="cohort")
    r = _quiet(SunAbraham().fit, panel, inference=Clustered(kind="CR2"), calendar=False)
    d = _peer_frame(panel)
    peer = _quiet(dd.SunAbraham(vcov_type="hc2_bm").fit, d, outcome="y", unit="unit", time="t", first_treat="ft")
    assert r.estimate == pytest.approx(peer.overall_att, abs=1e-6)
    assert r.se == pytest.approx(peer.overall_se, abs=1e-6)
    eff = r.effects.set_index("rel_time")
    for e, v in peer.event_study_effects.items():
        assert eff.loc[float(e), "std_error"] == pytest.approx(v["se"], abs=1e-6)
        assert eff.loc[float(e), "conf_low"] == pytest.approx(v["conf_int"][0], abs=1e-6)
        assert eff.loc[float(e), "conf_high"] == pytest.approx(v["conf_int"][1], abs=1e-6)


def test_sun_abraham_vs_pyfixest_saturated_event_study():
    pf = pytest.importorskip("pyfixest")
    d0 = PANELS["balanced"].data
    panel = Panel.from_frame(d0.assign(cohort=d0["unit"].map(PANELS["balanced"].timing.cohort)), unit="unit",
                             time="month", outcome="y", cohort="cohort")
    r = _quiet(sun_abraham, panel, calendar=False)
    d = _peer_frame(panel)
    fit = _quiet(pf.event_study, d, yname="y", idname="unit", tname="t", gname="ft", estimator="saturated")
    agg = _quiet(fit.aggregate)
    eff = r.effects.set_index("rel_time")
    assert len(agg) == int(eff["std_error"].notna().sum())
    for e, row in agg.iterrows():
        assert eff.loc[float(e), "estimate"] == pytest.approx(float(row["Estimate"]), abs=1e-6)
        assert eff.loc[float(e), "std_error"] == pytest.approx(float(row["Std. Error"]), abs=1e-6)


@pytest.mark.parametrize("which", ["balanced", "unbalanced"])
@pytest.mark.parametrize("partition", ["cohort_horizon", "cohort", "horizon"])
@pytest.mark.parametrize("loo", [False, True])
def test_imputation_vs_diff_diff(which, partition, loo):
    dd = pytest.importorskip("diff_diff")
    panel = PANELS[which]
    r = _quiet(ImputationDiD(aux_partition=partition, leave_one_out=loo).fit, panel, calendar=False)
    d = _peer_frame(panel)
    peer = _quiet(dd.ImputationDiD(aux_partition=partition, leave_one_out=loo).fit, d, outcome="y", unit="unit",
                  time="t", first_treat="ft", covariates=["x"])
    assert r.estimate == pytest.approx(peer.overall_att, abs=1e-6)
    assert r.se == pytest.approx(peer.overall_se, abs=1e-6)
    es = _quiet(peer.aggregate, "event_study")
    eff = r.effects[r.effects.kind == "imputation"].set_index("rel_time")
    n = 0
    for e, att, se in zip(es.event_time, es.att, es.se):
        if e < 0:
            continue
        n += 1
        assert eff.loc[float(e), "estimate"] == pytest.approx(att, abs=1e-6)
        assert eff.loc[float(e), "std_error"] == pytest.approx(se, abs=1e-6)
    assert n == len(eff)
    grp = _quiet(peer.aggregate, "group")
    coh = r.effects[r.effects.kind == "cohort"]
    first = panel.periods[0]
    mine = {int((pd.Period(g, first.freq) - first).n) + 1: (e, s) for g, e, s in
            zip(coh.group, coh.estimate, coh.std_error)}
    assert len(mine) == len(grp.label)
    for g, att, se in zip(grp.label, grp.att, grp.se):
        assert mine[int(g)][0] == pytest.approx(att, abs=1e-6)
        assert mine[int(g)][1] == pytest.approx(se, abs=1e-6)


def test_imputation_point_estimate_vs_pyfixest_did2s():
    pf = pytest.importorskip("pyfixest")
    panel = PANELS["balanced"]
    r = _quiet(ImputationDiD().fit, panel, calendar=False)
    d = _peer_frame(panel)
    fit = _quiet(pf.did2s, d, yname="y", first_stage="~ x | unit + t", second_stage="~ treat",
                 treatment="treat", cluster="unit")
    assert r.estimate == pytest.approx(float(fit.coef()["treat"]), abs=1e-6)


@pytest.mark.parametrize("seed,starts,n_never", [(31, (3, 6, 8, 9), 8), (32, (2, 5, 10), 0)])
def test_bacon_vs_diff_diff(seed, starts, n_never):
    dd = pytest.importorskip("diff_diff")
    panel = example_staggered_panel(seed=seed, starts=starts, n_never=n_never, n_per_cohort=4)
    r = bacon_decomposition(panel, calendar=False)
    d = _peer_frame(panel)
    peer = _quiet(dd.BaconDecomposition().fit, d, outcome="y", unit="unit", time="t", first_treat="ft")
    assert r.estimate == pytest.approx(peer.twfe_estimate, abs=1e-10)
    first = panel.periods[0]
    lab = {str(first + (s - 1)): s for s in range(1, panel.n_periods + 1)}
    mine = {(lab[row.treated], 0 if row.control == "never treated" else lab[row.control]): row
            for row in r.tables["bacon"].itertuples()}
    theirs = peer.to_dataframe()
    assert len(theirs) == len(mine)
    for row in theirs.itertuples():
        ctrl = 0 if row.control_group == "never_treated" else int(row.control_group)
        m = mine[(int(row.treated_group), ctrl)]
        assert m.weight == pytest.approx(row.weight, abs=1e-10)
        assert m.estimate == pytest.approx(row.estimate, abs=1e-10)
    assert r.info["weight: later vs earlier treated (forbidden)"] == pytest.approx(
        peer.total_weight_later_vs_earlier, abs=1e-10)


def test_anticipation_conventions_vs_diff_diff():
    # Sun-Abraham: same reference period (-1 - anticipation) and numbers. Imputation: the
    # same Omega_0 and the same event-time effects (including the anticipation horizon);
    # the overall ATT differs on purpose: diff-diff averages over the anticipation cells
    # as well, evalint over event times >= 0 only. Aligned by re-averaging evalint's
    # horizons with the anticipation cells included.
    dd = pytest.importorskip("diff_diff")
    d0 = PANELS["balanced"].data
    panel = Panel.from_frame(d0.assign(cohort=d0["unit"].map(PANELS["balanced"].timing.cohort)), unit="unit",
                             time="month", outcome="y", cohort="cohort")
    d = _peer_frame(panel)
    sa = _quiet(sun_abraham, panel, anticipation=1, calendar=False)
    peer_sa = _quiet(dd.SunAbraham(anticipation=1).fit, d, outcome="y", unit="unit", time="t", first_treat="ft")
    assert sa.estimate == pytest.approx(peer_sa.overall_att, abs=1e-6)
    assert sa.se == pytest.approx(peer_sa.overall_se, abs=1e-6)
    assert sa.info["reference_period"].startswith("-2")
    imp = _quiet(ImputationDiD(anticipation=1).fit, panel, calendar=False)
    peer = _quiet(dd.ImputationDiD(anticipation=1, leave_one_out=True).fit, d, outcome="y", unit="unit",
                  time="t", first_treat="ft")
    es = _quiet(peer.aggregate, "event_study")
    eff = imp.effects[imp.effects.kind != "cohort"].set_index("rel_time")
    for e, att, se in zip(es.event_time, es.att, es.se):
        if e >= -1:
            assert eff.loc[float(e), "estimate"] == pytest.approx(att, abs=1e-6)
            assert eff.loc[float(e), "std_error"] == pytest.approx(se, abs=1e-6)
    assert np.average(eff.estimate, weights=eff.n_cells) == pytest.approx(peer.overall_att, abs=1e-6)
    assert imp.estimate == pytest.approx(np.average(eff.estimate[eff.index >= 0],
                                                    weights=eff.n_cells[eff.index >= 0]), abs=1e-12)


def test_bjs_pretrend_test_vs_pyfixest_on_untreated_cells():
    # BJS Test 1 = OLS on the untreated cells with unit and period effects and lead dummies,
    # CR1 by unit (fixest small-sample rule): coefficients, SEs and the Wald F from pyfixest
    pf = pytest.importorskip("pyfixest")
    panel = PANELS["balanced"]
    r = _quiet(ImputationDiD(pretrends=3, pretrend_test="wald").fit, panel, calendar=False)
    d = _peer_frame(panel)
    rel = d.t - d.ft
    d0 = d.loc[(d.ft == 0) | (rel < 0)].copy()
    for k in (1, 2, 3):
        d0[f"lead{k}"] = ((d0.ft > 0) & (d0.t - d0.ft == -k)).astype(float)
    fit = _quiet(pf.feols, "y ~ lead1 + lead2 + lead3 + x | unit + t", d0, vcov={"CRV1": "unit"})
    pre = r.effects[r.effects.kind == "pretrend"].set_index("rel_time")
    for k in (1, 2, 3):
        assert pre.loc[float(-k), "estimate"] == pytest.approx(float(fit.coef()[f"lead{k}"]), abs=1e-6)
        assert pre.loc[float(-k), "std_error"] == pytest.approx(float(fit.se()[f"lead{k}"]), abs=1e-6)
    b = fit.coef()[["lead1", "lead2", "lead3"]].to_numpy()
    v = fit._vcov[:3, :3]
    f_peer = float(b @ np.linalg.solve(v, b) / 3)
    chk = next(c for c in r.diagnostics if c.name == "bjs_pretrend_test")
    assert chk.statistic == pytest.approx(f_peer, rel=1e-6)
