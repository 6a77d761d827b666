"""small_sample="nested" (the default CR1 rule) against pyfixest run here.

fixest/pyfixest's default ``ssc(k_fixef="nonnested")`` does not count fixed effects nested in
the clusters in K: ``G/(G-1) (N-1)/(N-K)``; Stata ``xtreg, fe vce(cluster)`` does the same.
Two panels: two periods x 400 units clustered by unit (where counting the 400 unit effects,
"CR1S", inflates the SE by sqrt((N-1)/(N-402) / ((N-1)/(N-2))) ~ 1.42), and 120 units nested
in 30 clusters over 8 periods (unit effects nested in clusters; period effects not).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.estimators.did.twfe import twfe
from evalint.inference.specs import Clustered

pf = pytest.importorskip("pyfixest")


def _two_period(seed=0, n=400):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), 2)
    t = np.tile([2020, 2021], n)
    tr = (unit < n // 2) & (t == 2021)
    y = rng.normal(0, 1, n)[unit] + 0.3 * (t == 2021) + 0.5 * tr + rng.normal(0, 1, 2 * n)
    return pd.DataFrame({"unit": unit, "year": t, "treated": tr.astype(int), "y": y})


def _nested(seed=1, n_units=120, n_cl=30, n_t=8):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_t)
    t = np.tile(np.arange(n_t), n_units)
    cl = unit % n_cl
    tr = (cl < 10) & (t >= 5)
    y = (rng.normal(0, 1, n_units)[unit] + rng.normal(0, 0.5, (n_cl, n_t))[cl, t] + 0.1 * t + 0.4 * tr
         + rng.normal(0, 1, n_units * n_t))
    return pd.DataFrame({"unit": unit, "year": 2010 + t, "icb": [f"c{c:02d}" for c in cl],
                         "treated": tr.astype(int), "y": y})


def _fixest_se(df, cluster, k_fixef):
    m = pf.feols("y ~ treated | unit + year", data=df, vcov={"CRV1": cluster},
                 ssc=pf.ssc(k_adj=True, k_fixef=k_fixef, G_adj=True))
    return float(m.se()["treated"]), float(m.coef()["treated"])


def test_two_period_400_units_nested_equals_fixest_and_cr1s_is_43pct_larger():
    df = _two_period()
    panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", treatment="treated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = twfe(panel, inference=Clustered(), calendar=False)
        full = twfe(panel, inference=Clustered(small_sample="CR1S"), calendar=False)
    se_nn, b = _fixest_se(df, "unit", "nonnested")
    se_full, _ = _fixest_se(df, "unit", "full")
    assert default.estimate == pytest.approx(b, rel=1e-10)
    assert default.se == pytest.approx(se_nn, rel=1e-8)
    assert full.se == pytest.approx(se_full, rel=1e-8)
    # 1.415: K 402 vs 3 (the nested unit effects count as one, as fixest)
    assert full.se / default.se == pytest.approx(np.sqrt((800 - 3) / (800 - 402)), rel=1e-8)
    assert "nested in clusters not counted" in default.inference.description


def test_units_nested_in_clusters_declared_cluster_equals_fixest():
    df = _nested()
    panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", treatment="treated", cluster="icb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = twfe(panel, inference=Clustered(), calendar=False)
    se, b = _fixest_se(df, "icb", "nonnested")
    assert res.estimate == pytest.approx(b, rel=1e-10)
    assert res.se == pytest.approx(se, rel=1e-8)
    assert res.inference.clusters == 30
    assert "clustered by icb (30 clusters)" in res.inference.description


def test_small_sample_option_is_validated():
    from evalint.errors import EvalintError

    with pytest.raises(EvalintError, match="small_sample"):
        Clustered(small_sample="HC1")
