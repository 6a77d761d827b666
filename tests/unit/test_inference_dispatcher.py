"""The inference dispatcher: every family hands an interface to inference/, and a spec registered
for that interface is accepted by the family's estimators without an edit to them.

Numbers come from outside evalint: statsmodels' HAC and HC0 covariances on the same regression,
the closed-form variance of a Rademacher multiplier sum, and hand computations from the
replicates/placebos an estimator reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from evalint.errors import SpecificationError
from evalint.inference import dispatch
from evalint.inference.dispatch import infer, register_inference, registered_specs
from evalint.inference.interface import (
    CovarianceEstimate, LinearFit, ReplicateEstimate, ReplicateRefit, TimeSeriesFit,
)
from evalint.inference.conformal import Conformal, CounterfactualRefit
from evalint.inference.influence import ClusterInfluence, InfluenceInference, InfluencePlan, UnitInfluence
from evalint.inference.placebo_rank import PlaceboRefit, placebo_rank_inference
from evalint.inference.replicates import jackknife_se
from evalint.inference.specs import InferenceSpec, MultiplierBootstrap, NeweyWest, Placebo


@dataclass(frozen=True)
class Toy(InferenceSpec):
    """A spec evalint does not ship: registered below for every family's interface."""

    @property
    def description(self) -> str:
        return "toy inference"


def _hc0(spec: Toy, fit: TimeSeriesFit) -> object:
    """White's HC0 covariance from the fit's scores and bread."""
    s = fit.scores()
    V = fit.bread @ (s.T @ s) @ fit.bread
    return fit.with_covariance(CovarianceEstimate(V, None, "Toy", "HC0 (toy)"))


def _jackknife_from_placebos(spec: Toy, fit: ReplicateRefit, **_: object) -> ReplicateEstimate:
    est = fit.jackknife_replicates()
    return ReplicateEstimate("toy", jackknife_se(est), est, None, None, "toy jackknife")


def _placebo_rank(spec: Toy, fit: PlaceboRefit, **ctx: object) -> object:
    return placebo_rank_inference(Placebo(seed=1), fit, **ctx)  # type: ignore[arg-type]


def _conformal(spec: Toy, fit: CounterfactualRefit, **ctx: object) -> object:
    return infer(Conformal(per_period=False, grid_size=10), fit, **ctx)


def _linear(spec: Toy, fit: LinearFit, **ctx: object) -> object:
    from evalint.inference.specs import Clustered

    return infer(Clustered(), fit, **ctx)


def _influence(spec: Toy, fit: ClusterInfluence) -> InfluenceInference:
    return InfluenceInference(tuple(float(np.abs(p).sum()) for p in fit.contributions), None, "Toy")


def _unit_influence(spec: Toy, fit: UnitInfluence) -> InfluencePlan:
    """Analytic influence-function SEs under the toy's name."""
    return InfluencePlan(spec, "Toy", "toy influence-function SEs", None, None, None, None)


@pytest.fixture
def toy_registered():
    saved = list(dispatch._RULES)
    register_inference(Toy, TimeSeriesFit, _hc0)
    register_inference(Toy, ReplicateRefit, _jackknife_from_placebos)
    register_inference(Toy, PlaceboRefit, _placebo_rank)
    register_inference(Toy, CounterfactualRefit, _conformal)
    register_inference(Toy, LinearFit, _linear)
    register_inference(Toy, ClusterInfluence, _influence)
    register_inference(Toy, UnitInfluence, _unit_influence)
    yield
    dispatch._RULES[:] = saved


def _series(n: int = 60, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = 0.5 * e[i - 1] + rng.normal()
    X = pd.DataFrame({"const": 1.0, "t": t, "level_1": (t >= 36).astype(float)})
    return 100 + 0.3 * t - 5 * (t >= 36) + e, X


def test_newey_west_handler_equals_statsmodels_hac():
    import statsmodels.api as sm

    from evalint.estimators.its.backends import OLSSeriesFit

    y, X = _series()
    fit = infer(NeweyWest(lags=3), OLSSeriesFit(y, X, np.ones(len(y), bool)))
    ref = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": False})
    np.testing.assert_allclose(fit.cov.to_numpy(), np.asarray(ref.cov_params()), rtol=1e-10)
    np.testing.assert_allclose(fit.params.to_numpy(), np.asarray(ref.params), rtol=1e-10)


def test_a_registered_spec_reaches_every_family_without_estimator_edits(toy_registered):
    import statsmodels.api as sm

    from evalint.estimators.did import BaconDecomposition, ImputationDiD, SunAbraham
    from evalint.estimators.its import CountITS, SegmentedRegression
    from evalint.estimators.synth import AugmentedSyntheticControl, SyntheticControl, SyntheticDiD

    assert Toy in registered_specs(TimeSeriesFit)
    # ITS: HC0 from the OLS scores/bread equals statsmodels' HC0 on the same design
    est, panel, kw = SegmentedRegression.contract_example()
    res = est.fit(panel, inference=Toy(), **kw)
    from evalint.estimators.its.common import extract_series, prepare_design, resolve_dates

    series = extract_series(panel, None, None)
    design, _ = prepare_design(series, resolve_dates(est.interventions, None, panel, series), est.design_spec(),
                               min_pre=est.min_pre, focus=None)
    ref = sm.OLS(series.y, design.X.to_numpy(float)).fit(cov_type="HC0")
    assert res.inference.name == "Toy"
    assert res.coefficients["std_error"].to_numpy() == pytest.approx(np.sqrt(np.diag(ref.cov_params())), rel=1e-8)
    est, panel, kw = CountITS.contract_example()
    assert est.fit(panel, inference=Toy(), **kw).inference.name == "Toy"

    # synthetic DiD: the toy SE is the jackknife formula applied to the reported replicates
    est, panel, kw = SyntheticDiD.contract_example()
    res = est.fit(panel, inference=Toy(), **kw)
    reps = res.tables["toy_estimates"]["estimate"].to_numpy()
    n = reps.size
    assert res.se == pytest.approx(np.sqrt((n - 1) / n * np.sum((reps - reps.mean()) ** 2)), rel=1e-12)

    # synthetic control and its augmented version accept it too
    est, panel, kw = SyntheticControl.contract_example()
    res = est.fit(panel, inference=Toy(), **kw)
    summ = res.tables["placebo_summary"]
    ratios = summ.loc[summ["placebo"], "ratio"].to_numpy()
    own = float(summ.loc[~summ["placebo"], "ratio"].iloc[0])
    assert res.p_value == pytest.approx((1 + np.sum(ratios >= own)) / (1 + ratios.size))
    est, panel, kw = AugmentedSyntheticControl.contract_example()
    assert np.isfinite(est.fit(panel, inference=Toy(), **kw).estimate)

    # staggered DiD: a LinearFit (Sun-Abraham, Bacon) and cluster scores (imputation)
    for cls in (SunAbraham, BaconDecomposition):
        est, panel, kw = cls.contract_example()
        assert np.isfinite(est.fit(panel, inference=Toy(), **kw).se)
    est, panel, kw = ImputationDiD.contract_example()
    assert np.isfinite(est.fit(panel, inference=Toy(), **kw).se)

    # Callaway-Sant'Anna: per-unit influence functions; the toy plan's analytic SEs are
    # sqrt(sum_i psi_i^2) / n of the headline aggregation's influence function, by hand
    from evalint.estimators.did import CallawaySantAnna
    from evalint.estimators.did.cs.aggregate import aggregate_cells

    est, panel, kw = CallawaySantAnna.contract_example()
    res = est.fit(panel, **{**kw, "inference": Toy()})
    assert res.inference.name == "Toy"
    psi = aggregate_cells(res.state.cells, est.aggregation).overall_influence
    assert res.se == pytest.approx(np.sqrt(np.sum(psi ** 2)) / psi.shape[0], rel=1e-12)


def test_an_unregistered_spec_is_refused_with_the_supported_list():
    from evalint.estimators.its import SegmentedRegression

    est, panel, kw = SegmentedRegression.contract_example()
    with pytest.raises(SpecificationError, match="supported: NeweyWest, ARErrors, Analytic"):
        est.fit(panel, inference=Toy(), **kw)
    with pytest.raises(SpecificationError, match="No inference is registered for Toy"):
        infer(Toy(), object())


@dataclass(frozen=True)
class _Psi:
    psi: np.ndarray
    cluster: np.ndarray | None = None
    n_clusters: int | None = None
    cluster_label: str | None = None

    def influence_values(self) -> np.ndarray:
        return self.psi


def test_multiplier_bootstrap_se_equals_the_influence_sd_within_monte_carlo_band():
    # Rademacher multipliers: sum_i U_i psi_i / n has variance sum_i psi_i^2 / n^2 exactly; the
    # IQR/1.349 estimate of its SD from B draws has relative SD about sqrt(1.36 / B) (normal IQR)
    rng = np.random.default_rng(5)
    psi = rng.normal(0, 2.0, size=(400, 1))
    sd = float(np.sqrt(np.sum(psi ** 2)) / psi.shape[0])
    fit = _Psi(psi)
    assert isinstance(fit, UnitInfluence)
    reps = 4999
    plan = infer(MultiplierBootstrap(reps=reps, seed=11), fit)
    se, _ = plan.standard_errors(fit.influence_values())
    assert abs(se[0] / sd - 1) < 4 * np.sqrt(1.36 / reps)
    plan_a = infer(__import__("evalint").Analytic(), fit)
    assert plan_a.standard_errors(psi)[0][0] == pytest.approx(sd, rel=1e-12)


@dataclass(frozen=True)
class NormalClustered(InferenceSpec):
    """A spec evalint does not ship for the regression DiD: CR1S SEs with a normal reference."""

    @property
    def description(self) -> str:
        return "CR1S cluster-robust SEs, normal reference (toy)"


def _normal_clustered(spec: NormalClustered, fit: object, **_: object) -> object:
    """Covariance from the shipped Clustered handler, contrasts tested against N(0, 1)."""
    import dataclasses

    from scipy import stats

    from evalint.inference.specs import Clustered

    base = infer(Clustered(small_sample="CR1S"), fit)

    def z_test(c, alpha, wald):
        z = stats.norm.ppf(1 - alpha / 2)
        p = 2 * stats.norm.sf(abs(wald.estimate / wald.se))
        return dataclasses.replace(wald, df=np.inf, p_value=float(p),
                                   ci=(wald.estimate - z * wald.se, wald.estimate + z * wald.se))

    return dataclasses.replace(base, test=z_test)


def test_a_spec_registered_for_the_regression_did_reaches_twfe_event_study_and_dose():
    from scipy import stats

    from evalint.estimators.did import DoseResponse, EventStudy, SunAbraham, TWFE
    from evalint.inference.contrasts import ClusteredLinearFit

    est, panel, kw = TWFE.contract_example()
    kw = {**kw, "inference": NormalClustered()}
    with pytest.raises(SpecificationError,
                       match=r"^TWFE does not support inference=NormalClustered; supported: Clustered, "
                             r"WildClusterBootstrap\.$"):
        est.fit(panel, **kw)
    saved = list(dispatch._RULES)
    try:
        register_inference(NormalClustered, ClusteredLinearFit, _normal_clustered)
        assert NormalClustered in registered_specs(ClusteredLinearFit)
        # TWFE: the SE is linearmodels PanelOLS' clustered SE (debiased, group_debias: CR1S), the
        # p-value and interval the normal ones around it
        from linearmodels import PanelOLS

        res = est.fit(panel, **kw)
        d = panel.data.assign(t=panel.data["month"].map(lambda p: p.ordinal)).set_index(["unit", "t"])
        ref = PanelOLS(d["y"], d[["treated", "x"]].astype(float), entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True)
        assert res.inference.name == "NormalClustered"
        assert res.estimate == pytest.approx(ref.params["treated"], rel=1e-8)
        assert res.se == pytest.approx(ref.std_errors["treated"], rel=1e-8)
        assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(res.estimate / res.se)), rel=1e-10)
        assert res.ci[1] - res.estimate == pytest.approx(stats.norm.ppf(0.975) * res.se, rel=1e-10)
        # the event study and the dose model hand over the same interface: no edit either
        for cls in (EventStudy, DoseResponse):
            e, p, k = cls.contract_example()
            r = e.fit(p, **{**k, "inference": NormalClustered()})
            assert r.inference.name == "NormalClustered"
            assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.estimate / r.se)), rel=1e-10)
        # the covariance-only LinearFit estimators do not take it (they cannot test contrasts by it)
        e, p, k = SunAbraham.contract_example()
        with pytest.raises(SpecificationError, match="supported: Analytic, Clustered"):
            e.fit(p, **{**k, "inference": NormalClustered()})
    finally:
        dispatch._RULES[:] = saved
