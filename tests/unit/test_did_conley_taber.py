"""ConleyTaber permutation inference in direct DiD calls, against brute-force enumeration.

A balanced panel of 2 treated and 10 never-treated units (one start date): there are
C(10, 2) = 45 placebo assignments, all enumerated. The test refits each placebo here by
brute force (TWFE: least squares with explicit unit and period dummies in numpy; C-S simple
ATT: the difference in mean post-minus-base changes of the placebo pair and the other
controls), then applies the Conley-Taber rule: with m placebo estimates, l = max(1,
floor((m + 1) alpha / 2)), u = m + 1 - l, the interval [est - P(u), est - P(l)] and
p = (1 + #{|placebo| >= |est|}) / (m + 1). For the event study the rule is checked on its
own placebo estimates (45 of them).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.data.panel import Panel
from evalint.errors import FewTreatedWarning
from evalint.inference.permutation import ConleyTaber

N_T, N_C, T, START = 2, 10, 8, 5


def _frame(seed=0):
    rng = np.random.default_rng(seed)
    n = N_T + N_C
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(T), n)
    treated = unit < N_T
    y = rng.normal(0, 1, n)[unit] + 0.2 * t + rng.normal(0, 1, n * T) + 0.8 * (treated & (t >= START))
    return pd.DataFrame({"unit": [f"u{u:02d}" for u in unit], "year": 2000 + t,
                         "cohort": np.where(treated, 2000 + START, 0), "y": y})


def _twfe_lstsq(y, unit, t, d):
    units, times = np.unique(unit), np.unique(t)
    x = np.column_stack([d] + [(unit == u).astype(float) for u in units] + [(t == s).astype(float) for s in times[1:]])
    return float(np.linalg.lstsq(x, y, rcond=None)[0][0])


def _cs_att(ymat, treated_rows, control_rows):
    base, post = START - 1, slice(START, T)
    change = ymat[:, post].mean(axis=1) - ymat[:, base]
    return float(change[treated_rows].mean() - change[control_rows].mean())


def _ct(est, placebo, alpha):
    m = len(placebo)
    lo = max(1, int(np.floor((m + 1) * alpha / 2 + 1e-9)))
    hi = m + 1 - lo
    ps = np.sort(placebo)
    p = (1 + np.sum(np.abs(placebo) >= abs(est) - 1e-12)) / (m + 1)
    return est - ps[hi - 1], est - ps[lo - 1], p


def _brute(df, kind):
    ctrl = df[df.cohort == 0]
    ids = sorted(ctrl.unit.unique())
    placebo = []
    for pair in itertools.combinations(ids, 2):
        if kind == "twfe":
            d = (ctrl.unit.isin(pair) & (ctrl.year >= 2000 + START)).to_numpy(float)
            placebo.append(_twfe_lstsq(ctrl.y.to_numpy(), ctrl.unit.to_numpy(), ctrl.year.to_numpy(), d))
        else:
            ymat = ctrl.pivot(index="unit", columns="year", values="y").loc[ids].to_numpy()
            tr = np.isin(ids, pair)
            placebo.append(_cs_att(ymat, tr, ~tr))
    return np.array(placebo)


@pytest.mark.parametrize("kind", ["twfe", "cs", "event_study"])
def test_permutation_interval_equals_brute_force(kind):
    df = _frame(3)
    panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")
    alpha = 0.1
    spec = ConleyTaber(reps=999, seed=1)
    if kind == "twfe":
        res = evalint.twfe(panel, inference=spec, calendar=False, alpha=alpha)
    elif kind == "cs":
        res = evalint.callaway_santanna(panel, inference=spec, calendar=False, alpha=alpha)
    else:
        res = evalint.event_study(panel, leads=3, lags=2, bin_endpoints=False, inference=spec, calendar=False,
                                  alpha=alpha)
    placebo = np.asarray(res.inference.placebo_estimates)
    assert placebo.size == 45
    if kind != "event_study":
        ref = _brute(df, "twfe" if kind == "twfe" else "cs")
        np.testing.assert_allclose(np.sort(placebo), np.sort(ref), rtol=1e-9, atol=1e-12)
    lo, hi, p = _ct(res.estimate, placebo, alpha)
    assert res.ci == pytest.approx((lo, hi), rel=1e-12)
    assert res.p_value == pytest.approx(p, rel=1e-12)
    assert res.se == pytest.approx(np.std(placebo, ddof=1), rel=1e-12)
    assert "Conley-Taber" in res.inference.description


def test_direct_call_with_few_treated_warns_and_names_the_alternative():
    panel = Panel.from_frame(_frame(4), unit="unit", time="year", outcome="y", cohort="cohort")
    for fit in (lambda: evalint.callaway_santanna(panel, calendar=False),
                lambda: evalint.twfe(panel, calendar=False, inference=evalint.Clustered()),
                lambda: evalint.event_study(panel, leads=3, lags=2, calendar=False),
                lambda: evalint.sun_abraham(panel, calendar=False)):
        with pytest.warns(FewTreatedWarning, match="ConleyTaber"):
            r = fit()
        assert any(f.source == "few_treated" for f in r.flags)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewTreatedWarning)
        r = evalint.callaway_santanna(panel, calendar=False, inference=ConleyTaber())
    assert not any(f.source == "few_treated" for f in r.flags)


def test_cluster_level_permutation_reassigns_whole_clusters():
    """Units nested in clusters: placebos give whole comparison clusters the start date, so the
    number of placebo assignments is C(clusters, treated clusters)."""
    df = _frame(5)
    df["icb"] = df["unit"].map(lambda u: f"c{int(u[1:]) // 2}")   # 6 clusters of 2 units; c0 treated
    panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort", cluster="icb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evalint.twfe(panel, inference=ConleyTaber(), calendar=False)
    assert np.asarray(res.inference.placebo_estimates).size == 5   # C(5, 1)
    ctrl = df[df.cohort == 0]
    ref = []
    for c in sorted(ctrl.icb.unique()):
        d = ((ctrl.icb == c) & (ctrl.year >= 2000 + START)).to_numpy(float)
        ref.append(_twfe_lstsq(ctrl.y.to_numpy(), ctrl.unit.to_numpy(), ctrl.year.to_numpy(), d))
    np.testing.assert_allclose(np.sort(res.inference.placebo_estimates), np.sort(ref), rtol=1e-9)
