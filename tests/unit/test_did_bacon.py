"""Goodman-Bacon decomposition.

The outside numbers: linearmodels' PanelOLS TWFE coefficient (core dependency) and its
clustered covariance; 2x2 DiDs computed here from group means with pandas; and a
simulation with a known truth (dynamic effects bias TWFE through the forbidden
comparisons). The diff-diff cross-check is in test_did_a2_peers.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from linearmodels import PanelOLS

from evalint.data.panel import Panel
from evalint.errors import SpecificationError, TreatmentError, UnbalancedPanelError
from evalint.estimators.did.bacon import BaconDecomposition, bacon_decomposition, decompose


def _frame(seed=0, starts=(3, 6, 8), n_per=(3, 5, 4), n_never=5, T=11, effect=lambda g, e: 1.0 + 0.3 * e):
    rng = np.random.default_rng(seed)
    periods = pd.period_range("2017", periods=T, freq="Y")
    b = rng.normal(0, 1, T)
    coh = [s for s, n in zip(starts, n_per) for _ in range(n)] + [-1] * n_never
    rows = []
    for i, g in enumerate(coh):
        a = rng.normal(0, 1)
        for t in range(T):
            tau = effect(g, t - g) if g >= 0 and t >= g else 0.0
            rows.append({"unit": f"icb{i:02d}", "year": periods[t], "y": a + b[t] + tau + rng.normal(0, 0.5),
                         "cohort": periods[g] if g >= 0 else None, "g": g, "t": t,
                         "d": int(g >= 0 and t >= g)})
    return pd.DataFrame(rows)


def _panel(df):
    return Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")


def _panelols(df, **fit_kw):
    data = df.assign(tt=df.t).set_index(["unit", "tt"])
    return PanelOLS(data["y"], data[["d"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, **fit_kw)


@pytest.mark.parametrize("seed,starts,n_per,n_never", [
    (0, (3, 6, 8), (3, 5, 4), 5),
    (1, (2, 9), (7, 2), 0),           # no never-treated units: timing comparisons only
    (2, (5,), (6,), 9),               # one cohort: treated vs never only
    (3, (1, 4, 5, 10), (2, 3, 4, 2), 3),
])
def test_weighted_sum_equals_panelols_twfe_and_weights_sum_to_one(seed, starts, n_per, n_never):
    df = _frame(seed, starts, n_per, n_never)
    r = bacon_decomposition(_panel(df), calendar=False)
    tab = r.tables["bacon"]
    lm = _panelols(df)
    assert r.estimate == pytest.approx(float(lm.params["d"]), abs=1e-10)
    assert float((tab.weight * tab.estimate).sum()) == pytest.approx(float(lm.params["d"]), abs=1e-10)
    assert tab.weight.sum() == pytest.approx(1.0, abs=1e-12)
    assert (tab.weight > 0).all()
    k = len(starts)
    assert len(tab) == k * (n_never > 0) + k * (k - 1)


def test_headline_se_is_cr1s_on_the_panelols_sandwich_and_cr2_available():
    df = _frame(4)
    r = bacon_decomposition(_panel(df), calendar=False)
    lm = _panelols(df, debiased=False, auto_df=False, count_effects=False)  # uncorrected sandwich
    g, n, t = df.unit.nunique(), len(df), df.t.nunique()
    p = 1 + g + t - 1  # treatment dummy + unit effects + period effects (one redundant)
    factor = g / (g - 1) * (n - 1) / (n - p)
    assert r.se == pytest.approx(float(lm.std_errors["d"]) * np.sqrt(factor), rel=1e-10)
    assert r.inference.clusters == g and r.inference.df == g - 1
    from evalint.inference.specs import Clustered

    r2 = BaconDecomposition().fit(_panel(df), inference=Clustered(kind="CR2"), calendar=False)
    assert r2.estimate == r.estimate and r2.inference.name == "CR2" and 1 < r2.inference.df < g - 1


def _hand_cr1s(df, cluster):
    """TWFE by dummy regression and a CR1S sandwich summed within ``cluster``, in numpy."""
    units, times = sorted(df.unit.unique()), sorted(df.t.unique())
    X = np.column_stack([df.d.to_numpy(float)]
                        + [(df.unit == u).to_numpy(float) for u in units]
                        + [(df.t == s).to_numpy(float) for s in times[1:]])
    y = df.y.to_numpy(float)
    XtX_inv = np.linalg.inv(X.T @ X)
    b = XtX_inv @ X.T @ y
    e = y - X @ b
    labels = df[cluster].to_numpy()
    groups = np.unique(labels)
    meat = sum(np.outer(X[labels == c].T @ e[labels == c], X[labels == c].T @ e[labels == c]) for c in groups)
    n, p, g = len(y), X.shape[1], len(groups)
    v = g / (g - 1) * (n - 1) / (n - p) * (XtX_inv @ meat @ XtX_inv)
    return b[0], float(np.sqrt(v[0, 0])), g


def test_declared_cluster_is_used_by_default_and_named():
    # units nested in 7 regions; the panel declares cluster="region": the headline SE is the
    # CR1S sandwich summed within regions (hand computation: dummy regression in numpy)
    df = _frame(11, starts=(3, 6, 8), n_per=(5, 6, 5), n_never=12)
    df["region"] = "r" + (df.unit.str[3:].astype(int) % 7).astype(str)
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", cluster="region")
    r = bacon_decomposition(p, calendar=False)
    b, se, g = _hand_cr1s(df, "region")
    assert g == 7
    assert r.estimate == pytest.approx(b, abs=1e-10)
    assert r.se == pytest.approx(se, rel=1e-9)
    assert r.inference.clusters == 7 and r.inference.df == 6
    assert "clustered by region (7 clusters)" in r.inference.description
    assert "clustered by region" in str(r.summary())
    # unit clustering unchanged when no cluster is declared, and Clustered(by=...) chooses explicitly
    r_unit = bacon_decomposition(_panel(df.drop(columns="region")), calendar=False)
    assert r_unit.se == pytest.approx(_hand_cr1s(df, "unit")[1], rel=1e-9)
    assert "clustered by unit (28 clusters)" in r_unit.inference.description
    from evalint.inference.specs import Clustered

    r_by = BaconDecomposition().fit(p, inference=Clustered(by="unit"), calendar=False)
    assert r_by.se == pytest.approx(r_unit.se, rel=1e-12)


def test_each_2x2_is_the_difference_of_group_mean_changes():
    df = _frame(5)
    tab = bacon_decomposition(_panel(df), calendar=False).tables["bacon"]
    m = df.groupby(["g", "t"])["y"].mean().unstack()
    label = {s: str(pd.Period("2017", "Y") + s) for s in (3, 6, 8)}
    inv = {v: k for k, v in label.items()}

    def win(g, a, b):
        return m.loc[g].iloc[a:b].mean()

    for row in tab.itertuples():
        k = inv[row.treated]
        if row.control == "never treated":
            want = (win(k, k, 11) - win(k, 0, k)) - (win(-1, k, 11) - win(-1, 0, k))
        elif not row.forbidden:
            l = inv[row.control]
            want = (win(k, k, l) - win(k, 0, k)) - (win(l, k, l) - win(l, 0, k))
        else:
            e = inv[row.control]  # earlier cohort, already treated, as control
            want = (win(k, k, 11) - win(k, e, k)) - (win(e, k, 11) - win(e, e, k))
        assert row.estimate == pytest.approx(want, abs=1e-12)


def test_forbidden_weight_flagged_above_threshold_only():
    df = _frame(6, starts=(2, 6), n_per=(6, 6), n_never=2)
    r = bacon_decomposition(_panel(df), calendar=False)
    share = r.info["weight: later vs earlier treated (forbidden)"]
    assert share > 0.10
    flag = [f for f in r.flags if f.source == "bacon_forbidden_weight"]
    assert len(flag) == 1 and flag[0].kind == "diagnostic"
    assert "forbidden" in str(r.summary()) and f"{share:.0%}" in flag[0].message
    chk = next(d for d in r.diagnostics if d.name == "bacon_forbidden_weight")
    assert chk.passed is False and chk.statistic == pytest.approx(share)
    # same panel with a threshold above the share: no flag
    r2 = bacon_decomposition(_panel(df), forbidden_threshold=min(share + 0.01, 0.99), calendar=False)
    assert not [f for f in r2.flags if f.source == "bacon_forbidden_weight"]
    # one cohort + never treated: nothing forbidden
    r3 = bacon_decomposition(_panel(_frame(7, starts=(5,), n_per=(6,))), calendar=False)
    assert r3.info["weight: later vs earlier treated (forbidden)"] == 0.0
    assert all(f.source != "bacon_forbidden_weight" for f in r3.flags)


def test_dynamic_effects_bias_twfe_through_forbidden_comparisons():
    # effects grow with time since adoption; no never-treated units. The later-vs-earlier
    # 2x2s subtract the early cohort's growing effect and are biased down (Goodman-Bacon
    # 2021, eq. 15), so TWFE falls below the ATT over treated cells (the known truth).
    effect = lambda g, e: 1.0 + 0.5 * e
    starts, n_per, T = (2, 7), (6, 6), 11
    truth = np.mean([effect(g, e) for g, n in zip(starts, n_per) for _ in range(n) for e in range(T - g)])
    twfe, forb, clean = [], [], []
    for s in range(30):
        r = bacon_decomposition(_panel(_frame(100 + s, starts, n_per, 0, T, effect)), calendar=False)
        tab = r.tables["bacon"]
        twfe.append(r.estimate)
        forb.append(tab.loc[tab.forbidden, "estimate"].mean())
        clean.append(tab.loc[~tab.forbidden, "estimate"].mean())
    twfe, forb, clean = map(np.array, (twfe, forb, clean))
    assert twfe.mean() < truth - 1.0
    # the forbidden 2x2 estimates the late cohort's effect minus the early cohort's growth
    # over the window (0.5 per period x 6.5 periods on average): strongly negative
    assert forb.mean() < 0 < clean.mean()


def test_bad_input():
    df = _frame(8)
    with pytest.raises(UnbalancedPanelError, match="balanced"):
        bacon_decomposition(_panel(df[~((df.unit == "icb00") & (df.t == 10))]), calendar=False)
    with pytest.raises(SpecificationError, match="treatment timing"):
        bacon_decomposition(Panel.from_frame(df, unit="unit", time="year", outcome="y"), calendar=False)
    with pytest.raises(TreatmentError, match="no comparison group"):
        bacon_decomposition(_panel(_frame(9, starts=(4,), n_per=(5,), n_never=0)), calendar=False)
    with pytest.raises(SpecificationError):
        BaconDecomposition(forbidden_threshold=1.5)
    from evalint.inference.specs import Clustered

    from evalint.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="'region'"):
        BaconDecomposition().fit(_panel(df), inference=Clustered(by="region"), calendar=False)
    with pytest.raises(TreatmentError, match="first period"):
        decompose(np.zeros((3, 4)), np.array([0, 2, -1]))


def test_covariates_are_not_used_and_said_so():
    df = _frame(10).assign(x=lambda d: np.random.default_rng(0).normal(size=len(d)))
    p = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", covariates=["x"])
    r = bacon_decomposition(p, calendar=False)
    assert any("not used" in f.message and "'x'" in f.message for f in r.flags)
    assert r.estimate == pytest.approx(float(_panelols(df).params["d"]), abs=1e-10)


def test_plot_kind_bacon_renders():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = bacon_decomposition(_panel(_frame(11)), calendar=False)
    assert r.plot_kind == "bacon"
    fig = r.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Weight in the TWFE estimate"
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(r.tables["bacon"])
    plt.close(fig)


def test_ics_waves_twfe_is_dominated_by_forbidden_comparisons():
    # the real ICS designation waves have no never-treated ICB: most of the TWFE weight
    # is on later-vs-earlier comparisons, which the result flags as high severity
    import warnings

    from evalint.datasets import simulate_nhs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_nhs(seed=1, adoption="ics_waves", covid=False,
                           effects={"length_of_stay": {"path": [0.0, -0.1, -0.2, -0.3, -0.4]}})
    r = bacon_decomposition(sim.panel.with_outcome("length_of_stay"), calendar=False)
    assert r.info["weight: treated vs never treated"] == 0.0
    assert r.info["weight: later vs earlier treated (forbidden)"] > 0.2
    assert any(f.source == "bacon_forbidden_weight" and f.severity == "high" for f in r.flags)
