"""The inference layer on its own: a least-squares fit that is not the DiD solver's, the one
cluster coder, the one rank p-value and the dispatcher's refusals.

Numbers come from statsmodels (cluster-robust OLS) and closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from evalint.errors import InferenceError, SpecificationError
from evalint.inference.cluster import cluster_codes
from evalint.inference.contrasts import ClusteredRegression
from evalint.inference.dispatch import infer, linear_covariance, resolve_inference
from evalint.inference.interface import LinearFit
from evalint.inference.randomisation import rank_test
from evalint.inference.specs import Analytic, Clustered, NeweyWest, Placebo, WildClusterBootstrap


@dataclass(frozen=True)
class PlainOLS:
    """Ordinary least squares with an intercept, written here: the LinearFit interface only."""

    coef: np.ndarray
    names: tuple[str, ...]
    bread: np.ndarray
    x_tilde: np.ndarray
    resid: np.ndarray
    n_obs: int
    weights: None = None
    fe: None = None

    @property
    def n_coef(self) -> int:
        return len(self.coef)

    @property
    def n_params(self) -> int:
        return self.n_coef + 1  # the intercept, absorbed by centring

    def weighted(self):
        return self.x_tilde, self.resid

    @classmethod
    def fit(cls, y, x):
        xc = x - x.mean(0)
        yc = y - y.mean()
        bread = np.linalg.inv(xc.T @ xc)
        b = bread @ xc.T @ yc
        return cls(b, tuple(f"x{i}" for i in range(x.shape[1])), bread, xc, yc - xc @ b, len(y))


def _data(seed=3, g=12, m=8):
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(g), m)
    x = rng.normal(size=(g * m, 2)) + rng.normal(size=(g, 1))[cl]
    y = 1 + x @ np.array([0.5, -0.2]) + rng.normal(size=g)[cl] + rng.normal(size=g * m)
    return y, x, cl


def test_a_plain_ols_is_a_linear_fit_and_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    y, x, cl = _data()
    fit = PlainOLS.fit(y, x)
    assert isinstance(fit, LinearFit)
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": cl})
    # statsmodels' default cluster correction: G/(G-1) (N-1)/(N-K), K counting the intercept
    vc = linear_covariance(fit, cl, Clustered(kind="CR1", small_sample="CR1S"), "CR1S")
    np.testing.assert_allclose(vc.se, np.asarray(ref.bse)[1:], rtol=1e-10)
    out = infer(Clustered(small_sample="CR1S"), ClusteredRegression(fit, cl)).contrast(np.array([1.0, 0.0]), 0.05)
    assert out.estimate == pytest.approx(ref.params[1], rel=1e-10)
    assert out.df == 11.0 and out.reps is None
    t = ref.params[1] / ref.bse[1]
    from scipy import stats

    assert out.p_value == pytest.approx(2 * stats.t.sf(abs(t), 11), rel=1e-8)


def test_wild_bootstrap_through_the_dispatcher_enumerates_rademacher_signs():
    y, x, cl = _data(g=8)
    fit = PlainOLS.fit(y, x)
    spec = WildClusterBootstrap(weights="rademacher", reps=999)
    out = infer(spec, ClusteredRegression(fit, cl, "CR1S")).contrast(np.array([0.0, 1.0]), 0.05)
    assert out.enumerated and out.reps == 2 ** 8
    # an exact randomisation p-value over 256 equally likely sign vectors is a multiple of 1/256
    assert (out.p_value * 256) == pytest.approx(round(out.p_value * 256))
    assert out.ci[0] < out.estimate < out.ci[1]


def test_cluster_codes_one_coder_two_wordings():
    codes, g = cluster_codes(np.array(["b", "a", "b", "c"]))
    assert g == 3 and codes.tolist() == [1, 0, 1, 2]
    with pytest.raises(InferenceError, match="one label per row"):
        cluster_codes([1, 2], 3)
    with pytest.raises(InferenceError, match="influence function has 3 rows"):
        cluster_codes([1, 2], 3, per="unit")
    with pytest.raises(InferenceError, match="every unit needs one"):
        cluster_codes(np.array([1.0, np.nan]), 2, per="unit")
    with pytest.raises(InferenceError, match="at least 2 clusters"):
        cluster_codes(["a", "a"], 2)
    from evalint.inference.multiplier import cluster_codes as multiplier_codes

    assert multiplier_codes(["x", "y", "x"], 3)[0].tolist() == [0, 1, 0]


def test_rank_test_closed_forms():
    plac = [1.0, -4.0, 5.0, 2.0]
    assert rank_test(3.0, plac).p_value == pytest.approx(3 / 5)
    assert rank_test(3.0, plac, alternative="greater").count == 1
    assert rank_test(3.0, plac, alternative="less").p_value == pytest.approx(4 / 5)
    # ties count against the actual statistic; the tolerance makes near-ties ties
    assert rank_test(2.0, plac, alternative="greater").rank == 3
    assert rank_test(2.0 + 1e-13, plac, alternative="greater", tol=1e-12).rank == 3
    # non-finite placebos dropped, or kept in n and never extreme
    assert rank_test(1.0, [np.nan, 2.0]).p_value == pytest.approx(1.0)
    assert rank_test(3.0, [np.nan, 2.0], drop_nonfinite=False).p_value == pytest.approx(1 / 3)
    assert np.isnan(rank_test(np.nan, [1.0]).p_value)
    with pytest.raises(SpecificationError):
        rank_test(1.0, plac, alternative="both")  # type: ignore[arg-type]


class _Toy:
    name = "toy"
    supported_inference = (Analytic, NeweyWest)
    inference_label = "Toy estimator"

    def default_inference(self):
        return Analytic()


def test_resolve_inference_defaults_and_refuses():
    assert resolve_inference(_Toy(), None) == Analytic()
    assert resolve_inference(_Toy(), NeweyWest(lags=2)) == NeweyWest(lags=2)
    with pytest.raises(SpecificationError, match=r"^Toy estimator does not support inference=Placebo; "
                                                 r"supported: Analytic, NeweyWest\.$"):
        resolve_inference(_Toy(), Placebo())
    with pytest.raises(SpecificationError, match="supported: Analytic.$"):
        resolve_inference(_Toy(), NeweyWest(), supported=(Analytic,))
