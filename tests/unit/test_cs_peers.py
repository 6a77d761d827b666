"""Callaway-Sant'Anna against peer packages (the `peers` extra): diff-diff, moderndid, csdid.

ATT(g,t) and analytic (influence-function) SEs to 1e-6 on mpdta and on a simulated
staggered panel, without and with a covariate, never- and not-yet-treated comparisons,
plus the aggregations' point estimates and analytic SEs.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.did.cs.aggregate import aggregate_att
from evalint.estimators.did.cs.estimator import callaway_santanna
from evalint.inference import Analytic

pytestmark = pytest.mark.peers
TOL = 1e-6


def _sim(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, years = 300, np.arange(2001, 2011)
    cohort = rng.choice([0, 2004, 2006, 2008], size=n, p=[0.4, 0.2, 0.2, 0.2])
    x = rng.normal(size=n) + 0.3 * (cohort > 0)
    u, t = np.meshgrid(np.arange(n), years, indexing="ij")
    g = cohort[u]
    y = (rng.normal(size=n)[u] + 0.05 * (t - 2001) + 0.2 * x[u] * (t - 2001) / 10
         + ((g > 0) & (t >= g)) * (0.5 + 0.1 * (t - g)) + rng.normal(0, 0.3, u.shape))
    return pd.DataFrame({"id": u.ravel() + 1, "year": t.ravel(), "y": y.ravel(), "g": g.ravel(),
                         "x": x[u].ravel()})


@pytest.fixture(scope="module")
def datasets(shared_reference):
    out = {"sim": (_sim(), "id", "year", "y", "g", "x")}
    path = shared_reference / "mpdta" / "data.csv"
    if path.is_file():
        out["mpdta"] = (pd.read_csv(path), "countyreal", "year", "lemp", "first.treat", "lpop")
    return out


def _ours(df, unit, time, y, g, x, cov, control, **kw):
    p = Panel.from_frame(df, unit=unit, time=time, outcome=y, cohort=g, covariates=[x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callaway_santanna(p, covariates=(x,) if cov else (), control=control, inference=Analytic(),
                                 calendar=False, **kw)


CASES = [(d, cov, ctrl) for d in ("mpdta", "sim") for cov in (False, True)
         for ctrl in ("never_treated", "not_yet_treated")]


def _cells(res):
    t = res.tables["att_gt"]
    return {(int(a), int(b)): (e, s) for a, b, e, s in zip(t["group"], t["time"], t["estimate"], t["std_error"])}


@pytest.mark.parametrize("data,cov,control", CASES)
def test_att_gt_matches_moderndid(datasets, data, cov, control):
    md = pytest.importorskip("moderndid")
    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = _cells(_ours(df, unit, time, y, g, x, cov, control))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(df, yname=y, tname=time, idname=unit, gname=g, xformla=f"~{x}" if cov else None,
                      boot=False, cband=False, est_method="dr",
                      control_group="nevertreated" if control == "never_treated" else "notyettreated")
    assert len(m.att_gt) == len(ours)
    for gg, tt, a, s in zip(m.groups, m.times, m.att_gt, m.se_gt):
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(a, abs=TOL)
        assert se == pytest.approx(s, abs=TOL)


@pytest.mark.parametrize("data", ["mpdta", "sim"])
@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_estimation_methods_and_base_periods_match_moderndid(datasets, data, method, base_period):
    md = pytest.importorskip("moderndid")
    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = _cells(_ours(df, unit, time, y, g, x, True, "never_treated", estimation=method,
                        base_period=base_period))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(df, yname=y, tname=time, idname=unit, gname=g, xformla=f"~{x}", boot=False,
                      cband=False, est_method=method, base_period=base_period)
    for gg, tt, a, s in zip(m.groups, m.times, m.att_gt, m.se_gt):
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(a, abs=TOL)
        assert se == pytest.approx(s, abs=TOL, nan_ok=True)


@pytest.mark.parametrize("data", ["mpdta", "sim"])
def test_anticipation_not_yet_treated_matches_moderndid(datasets, data):
    md = pytest.importorskip("moderndid")
    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = _cells(_ours(df, unit, time, y, g, x, False, "not_yet_treated", anticipation=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(df, yname=y, tname=time, idname=unit, gname=g, boot=False, cband=False,
                      anticipation=1, control_group="notyettreated")
    assert len(m.att_gt) == len(ours)
    for gg, tt, a, s in zip(m.groups, m.times, m.att_gt, m.se_gt):
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(a, abs=TOL) and se == pytest.approx(s, abs=TOL)


# diff-diff's doubly robust estimator with covariates is not R did's DRDID drdid_panel: on mpdta
# ~lpop its ATT(g,t) differ by up to 6.7e-6 (1.7e-4 on the simulated panel). Its outcome
# regression, IPW and every estimator without covariates agree with R did (and evalint) to 1e-15.
DD_CASES = [(d, cov, ctrl, m) for d in ("mpdta", "sim") for ctrl in ("never_treated", "not_yet_treated")
            for cov, m in ((False, "dr"), (True, "ipw"), (True, "reg"))]


@pytest.mark.parametrize("data,cov,control,method", DD_CASES)
def test_att_gt_matches_diff_diff(datasets, data, cov, control, method):
    dd = pytest.importorskip("diff_diff")
    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = _cells(_ours(df, unit, time, y, g, x, cov, control, estimation=method))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = dd.CallawaySantAnna(control_group=control, estimation_method=method, n_bootstrap=0).fit(
            df, outcome=y, unit=unit, time=time, first_treat=g, covariates=[x] if cov else None)
    assert len(r.group_time_effects) == len(ours)
    for (gg, tt), v in r.group_time_effects.items():
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(v["effect"], abs=TOL)
        assert se == pytest.approx(v["se"], abs=TOL)


@pytest.mark.parametrize("data,cov", [("mpdta", False), ("mpdta", True), ("sim", False), ("sim", True)])
def test_att_gt_matches_csdid(datasets, data, cov):
    pytest.importorskip("csdid")
    from csdid.att_gt import ATTgt

    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = _cells(_ours(df, unit, time, y, g, x, cov, "never_treated"))
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        c = ATTgt(yname=y, tname=time, idname=unit, gname=g, data=df.copy(), control_group=["nevertreated"],
                  xformla=f"{y}~{x}" if cov else None).fit(est_method="dr", bstrap=False)
    res = c.results
    assert len(res["att"]) == len(ours)
    for gg, tt, a, s in zip(res["group"], res["year"], res["att"], res["se"]):
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(a, abs=TOL)
        assert se == pytest.approx(s, abs=TOL)


@pytest.mark.parametrize("data", ["mpdta", "sim"])
@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_aggregations_match_moderndid(datasets, data, kind):
    md = pytest.importorskip("moderndid")
    if data not in datasets:
        pytest.skip("mpdta not available")
    df, unit, time, y, g, x = datasets[data]
    ours = aggregate_att(_ours(df, unit, time, y, g, x, False, "never_treated"), kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(df, yname=y, tname=time, idname=unit, gname=g, boot=False, cband=False)
        a = md.aggte(m, type=kind, boot=False, cband=False)
    assert ours.estimate == pytest.approx(a.overall_att, abs=TOL)
    assert ours.se == pytest.approx(a.overall_se, abs=TOL)
    if kind != "simple":
        assert ours.effects["estimate"].to_numpy() == pytest.approx(np.asarray(a.att_by_event), abs=TOL)
        assert ours.effects["std_error"].to_numpy() == pytest.approx(np.asarray(a.se_by_event), abs=TOL)


@pytest.mark.parametrize("cov", [False, True])
def test_sampling_weighted_att_gt_matches_moderndid(cov):
    # cells only: moderndid 0.2.0's aggte uses unweighted cohort shares (R did weights them,
    # as evalint does), so weighted aggregations are not compared
    md = pytest.importorskip("moderndid")
    df = _sim(1)
    w = pd.Series(np.random.default_rng(5).uniform(0.5, 2.0, 300), index=np.arange(1, 301))
    df["w"] = df["id"].map(w)
    p = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="g", covariates=["x"], weights="w")
    ours = _cells(callaway_santanna(p, weights=True, covariates=("x",) if cov else (), inference=Analytic(),
                                    calendar=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(df, yname="y", tname="year", idname="id", gname="g", xformla="~x" if cov else None,
                      weightsname="w", boot=False, cband=False)
    for gg, tt, a, s in zip(m.groups, m.times, m.att_gt, m.se_gt):
        e, se = ours[(int(gg), int(tt))]
        assert e == pytest.approx(a, abs=TOL) and se == pytest.approx(s, abs=TOL)
