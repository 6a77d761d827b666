"""The cluster role: Panel.from_frame(..., cluster=...) and its use by every DiD estimator.

Clustered SEs are checked against pyfixest (run here) for TWFE / the event study, and against
the closed form of the cluster-robust influence-function variance for Callaway-Sant'Anna
(sum over clusters of the squared cluster sums of the unit influence functions, / n^2).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.data.panel import Panel
from evalint.errors import ColumnNotFoundError, InvalidValueError, MissingValuesError, SpecificationError


def _frame(seed=0, n_units=96, n_cl=24, n_t=10):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_t)
    t = np.tile(np.arange(n_t), n_units)
    cl = unit % n_cl
    cohort = np.where(cl < 6, 5, np.where(cl < 10, 7, 0))  # per row: ICB-level adoption
    y = (rng.normal(0, 1, n_units)[unit] + rng.normal(0, 0.6, (n_cl, n_t))[cl, t] + 0.05 * t
         + 0.5 * ((cohort > 0) & (t >= cohort)) + rng.normal(0, 1, n_units * n_t))
    return pd.DataFrame({"unit": [f"p{u:03d}" for u in unit], "year": 2010 + t,
                         "icb": [f"icb{c:02d}" for c in cl], "cohort": np.where(cohort > 0, 2010 + cohort, 0),
                         "y": y})


def _panel(df, **kw):
    return Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", cluster="icb", **kw)


def test_cluster_is_kept_and_validated():
    df = _frame()
    before = df.copy()
    p = _panel(df)
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    assert p.cluster == "icb" and p.n_clusters == 24 and "icb" in p.data.columns
    assert p.unit_clusters()["p000"] == "icb00"
    assert p.subset(units=list(p.units[:30])).cluster == "icb"
    bad = df.copy()
    bad.loc[(bad.unit == "p005") & (bad.year == 2013), "icb"] = "icb99"
    with pytest.raises(InvalidValueError, match="p005"):
        _panel(bad)
    miss = df.copy()
    miss.loc[miss.unit == "p007", "icb"] = None
    with pytest.raises(MissingValuesError, match="p007"):
        _panel(miss)
    with pytest.raises(ColumnNotFoundError, match="region"):
        Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", cluster="region")
    with pytest.raises(SpecificationError, match="outcome"):
        Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", cluster="y")


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


def test_every_did_estimator_clusters_by_the_declared_cluster_and_says_so():
    p = _panel(_frame())
    phrase = "clustered by icb (24 clusters)"
    fits = {
        "twfe": _quiet(evalint.twfe, p, calendar=False, inference=evalint.Clustered()),
        "twfe_wild": _quiet(evalint.twfe, p, calendar=False),
        "event_study": _quiet(evalint.event_study, p, leads=3, lags=3, calendar=False),
        "cs": _quiet(evalint.callaway_santanna, p, calendar=False),
        "cs_analytic": _quiet(evalint.callaway_santanna, p, calendar=False, inference=evalint.Analytic()),
        "sun_abraham": _quiet(evalint.sun_abraham, p, calendar=False),
        "imputation": _quiet(evalint.imputation_did, p, calendar=False),
    }
    for name, r in fits.items():
        assert phrase in r.inference.description, name
        assert phrase in str(r.summary()), name
        assert r.inference.clusters == 24, name


def test_twfe_clusters_equal_pyfixest_and_clusters_mapping_is_named():
    pf = pytest.importorskip("pyfixest")
    df = _frame(3)
    p = _panel(df)
    res = _quiet(evalint.twfe, p, calendar=False, inference=evalint.Clustered())
    d = df.assign(treated=((df.cohort > 0) & (df.year >= df.cohort)).astype(int))
    m = pf.feols("y ~ treated | unit + year", data=d, vcov={"CRV1": "icb"})
    assert res.estimate == pytest.approx(m.coef()["treated"], rel=1e-10)
    assert res.se == pytest.approx(m.se()["treated"], rel=1e-8)
    # the same clusters through fit(clusters=...): the summary no longer says "by unit"
    p2 = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")
    mapping = df.groupby("unit")["icb"].first()
    r2 = _quiet(evalint.twfe, p2, calendar=False, inference=evalint.Clustered(), clusters=mapping)
    assert r2.se == pytest.approx(res.se, rel=1e-12)
    assert "by unit" not in r2.inference.description and "(24 clusters)" in r2.inference.description


def test_callaway_santanna_cluster_se_is_the_cluster_sum_of_influence_functions():
    p = _panel(_frame(5))
    r = _quiet(evalint.callaway_santanna, p, calendar=False, inference=evalint.Analytic())
    r_unit = _quiet(evalint.callaway_santanna, Panel.from_frame(_frame(5), unit="unit", time="year", outcome="y",
                                                                cohort="cohort"), calendar=False,
                    inference=evalint.Analytic())
    from evalint.estimators.did.cs.aggregate import aggregate_cells

    cells = r_unit.state.cells
    psi = aggregate_cells(cells, "simple").overall_influence
    labels = p.unit_clusters().reindex(cells.units).to_numpy()
    sums = pd.Series(psi).groupby(labels).sum().to_numpy()
    n = len(psi)
    assert r.estimate == pytest.approx(r_unit.estimate, rel=1e-12)
    assert r.se == pytest.approx(np.sqrt((sums ** 2).sum()) / n, rel=1e-8)


def test_evaluate_and_its_config_cluster_by_the_declared_cluster(tmp_path):
    from evalint.evaluate.config import build_panel, load_config

    df = _frame(6)
    df.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "c.toml").write_text('[data]\npath = "d.csv"\nunit = "unit"\ntime = "year"\noutcomes = ["y"]\n'
                                     'cohort = "cohort"\ncluster = "icb"\n[evaluation]\ndesigns = ["did"]\n')
    panel = build_panel(load_config(tmp_path / "c.toml"))
    assert panel.cluster == "icb" and panel.n_clusters == 24
    intervention = {u: str(c) for u, c in df.groupby("unit")["cohort"].first().items() if c}
    ev = _quiet(evalint.evaluate, panel, intervention, outcomes=["y"], designs=["did"], calendar=False, fast=True)
    r = ev.result("did", "y")
    assert "clustered by icb (24 clusters)" in r.inference.description
