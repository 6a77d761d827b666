"""Cross-checks against peer packages (``peers`` extra): outcome-only SC weights on Prop 99.

Same specification everywhere: California vs the 38 donor states, donor weights on the
simplex minimising the 1970-1988 squared gaps of cigsale (no covariates, no intercept).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def prop99(shared_reference):
    from evalint.estimators.synth.scm.estimator import synthetic_control
    from evalint.replication.prop99_adh import prop99_adh_panel

    panel, df = prop99_adh_panel()
    res = synthetic_control(panel, calendar=False, leave_one_out=False, inference=None)
    weights = res.tables["donor_weights"].set_index("unit")["weight"]
    Y = panel.to_matrix("cigsale")
    Y.columns = [p.year for p in Y.columns]
    return panel, df, res, weights, Y


def _pre_loss(Y, w):
    pre = [c for c in Y.columns if c < 1989]
    X0 = Y.drop(index="California")[pre]
    gap = Y.loc["California", pre].to_numpy() - X0.loc[w.index].T.to_numpy() @ w.to_numpy()
    return float(np.mean(gap**2))


def test_mlsynth_vanillasc_outcome_only_weights(prop99):
    pytest.importorskip("mlsynth")
    from mlsynth.estimators.vanillasc import VanillaSC

    _panel, df, res, weights, _Y = prop99
    out = VanillaSC({"df": df[["state", "year", "cigsale", "treated"]].copy(), "outcome": "cigsale",
                     "treat": "treated", "unitid": "state", "time": "year", "backend": "outcome-only",
                     "inference": False}).fit()
    theirs = pd.Series(out.weights.donor_weights, dtype=float).reindex(weights.index).fillna(0.0)
    assert np.max(np.abs(theirs - weights)) < 1e-4
    assert res.estimate == pytest.approx(float(out.effects.att), abs=1e-3)


def test_pysyncon_synth_outcome_only_weights(prop99):
    pytest.importorskip("pysyncon")
    from pysyncon import Synth

    _panel, _df, _res, weights, Y = prop99
    pre = [c for c in Y.columns if c < 1989]
    X0 = Y.drop(index="California")[pre].T
    X1 = Y.loc["California", pre]
    X0.index = X0.index.astype(str)
    X1.index = X1.index.astype(str)
    # pysyncon divides each predictor row by its sd across units; V = sd^2 undoes that, so the
    # inner problem is the plain outcome-only SC (unnormalised V keeps its SLSQP tolerance tight).
    sd = pd.concat([X0, X1], axis=1).std(axis=1).to_numpy()
    synth = Synth()
    synth.fit(X0=X0, X1=X1, Z0=X0, Z1=X1, custom_V=sd**2)
    theirs = pd.Series(synth.W, index=X0.columns).reindex(weights.index)
    assert np.max(np.abs(theirs - weights)) < 1e-4
    # and the exact solver's fit is at least as good as the SLSQP one
    assert _pre_loss(Y, weights) <= _pre_loss(Y, theirs) + 1e-9
