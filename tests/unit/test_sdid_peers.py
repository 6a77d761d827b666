"""Cross-checks of synthetic DiD against peer packages (``peers`` extra) on Proposition 99.

Same specification everywhere: California vs the 38 other states, 1970-1988 pre-period,
synthdid's default regularisation (zeta_omega = (N1 T1)^(1/4) sigma, zeta_lambda = 1e-6 sigma).

* diff-diff ports synthdid's procedure (Frank-Wolfe, 100 iterations, sparsify, 10,000 more;
  placebo replications warm-started from the full-sample weights): estimate, weights and even
  the placebo replications (numpy default_rng with the same seed) agree to machine precision.
* mlsynth solves the same penalised weight problems exactly (a convex solver) instead of by
  synthdid's early-stopped Frank-Wolfe, so its estimate is the exact-optimum SDID, -15.6054,
  not synthdid's -15.6038; the test confirms that by solving the unit-weight problem with
  SciPy's SLSQP and recomputing the estimate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def prop99(shared_reference):
    from evalint.estimators.synth.sdid.estimator import synthetic_did
    from evalint.replication.prop99_synthdid import prop99_panel

    df = pd.read_csv(shared_reference / "prop99_synthdid" / "data.csv")
    res = synthetic_did(prop99_panel(), variance="placebo", reps=200, seed=0, calendar=False)
    return df, res


def test_diff_diff_sdid_same_estimate_weights_and_placebo_se(prop99):
    pytest.importorskip("diff_diff")
    from diff_diff import SyntheticDiD

    df, res = prop99
    data = df.assign(ever=(df["State"] == "California").astype(int))
    theirs = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=0).fit(
        data, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
        post_periods=list(range(1989, 2001)))
    assert res.estimate == pytest.approx(theirs.att, abs=1e-8)
    assert round(theirs.att, 2) == -15.60
    ours_w = res.tables["unit_weights"].set_index("unit")["weight"]
    their_w = pd.Series(theirs.unit_weights, dtype=float).reindex(ours_w.index)
    assert np.max(np.abs(ours_w - their_w)) < 1e-8
    ours_l = res.tables["time_weights"].assign(time=lambda d: [p.year for p in d["time"]]).set_index("time")["weight"]
    their_l = pd.Series(theirs.time_weights, dtype=float).reindex(ours_l.index)
    assert np.max(np.abs(ours_l - their_l)) < 1e-8
    # same procedure and same generator: the placebo SE agrees well beyond Monte Carlo error
    assert res.se == pytest.approx(theirs.se, rel=1e-6)


def test_mlsynth_sdid_is_the_exact_optimum_version(prop99):
    pytest.importorskip("mlsynth")
    from mlsynth import SDID
    from scipy.optimize import minimize

    from evalint.estimators.synth.sdid.core import SdidSettings, block_regularisation, block_tau, fit_design
    from evalint.estimators.synth.sdid.design import panel_design
    from evalint.replication.prop99_synthdid import prop99_panel

    df, res = prop99
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SDID({"df": df, "outcome": "PacksPerCapita", "treat": "treated", "unitid": "State",
                       "time": "Year", "B": 20, "display_graphs": False}).fit()
    assert round(theirs.att, 1) == round(res.estimate, 1) == -15.6
    assert abs(theirs.att - res.estimate) < 5e-3
    # exact unit weights by SLSQP on the paper's objective (intercept = demeaning over time)
    design = panel_design(prop99_panel())
    Y, n0, t0 = design.Y, len(design.control_units), int(design.start.min())
    reg = block_regularisation(Y, n0, t0, SdidSettings())
    A = Y[:n0, :t0].T - Y[:n0, :t0].T.mean(axis=0)
    b = Y[n0:, :t0].mean(axis=0) - Y[n0:, :t0].mean()
    eta = t0 * reg.zeta_omega ** 2
    obj = lambda w: eta * w @ w + np.sum((A @ w - b) ** 2)
    sol = minimize(obj, np.full(n0, 1 / n0), method="SLSQP", bounds=[(0, 1)] * n0,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   options={"ftol": 1e-15, "maxiter": 2000})
    lam = fit_design(Y, design.start, SdidSettings()).cohorts[0].lam
    exact_tau = block_tau(Y[None], n0, t0, sol.x[None], lam[None])[0]
    assert theirs.att == pytest.approx(exact_tau, abs=1e-4)
