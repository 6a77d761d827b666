"""ARCHITECTURE.md "How to add an estimator", followed to the letter by a toy estimator.

The toy (post-period mean minus pre-period mean of one series, Welch standard error) lives in
this file instead of ``evalint/estimators/<family>/<name>.py``; otherwise it takes the same
steps: a frozen dataclass on the fit template, its declared inference, a core that returns a
``FitCore``, ``make_result``, ``register_estimator`` and ``contract_example``. It must pass the
whole contract suite and match scipy's Welch t-test (a number from outside evalint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalint.estimators.base import ESTIMATORS, register_estimator
from evalint.estimators.template import CalendarOutcome, CalendarQuery, FitCore, FitTemplate
from evalint.inference.specs import Analytic
from evalint.results.effect import EffectResult, InferenceInfo, make_result


@dataclass(frozen=True)
class PrePostMeans(FitTemplate):
    """Post-period mean minus pre-period mean of one series (a toy; no counterfactual trend).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika 34(1-2), 28-35.
    """

    name: ClassVar[str] = "toy_pre_post_means"                      # step 1: registry name
    supported_inference: ClassVar[tuple[type, ...]] = (Analytic,)   # step 2: declared inference
    intervention: str = "2021-01-01"

    def default_inference(self) -> Analytic:
        return Analytic()

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
            outcome: str | None = None) -> EffectResult:             # step 3: fit -> the template
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, outcome=outcome)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any,
                  outcome: str | None = None) -> FitCore:            # step 4: the core
        outcome = outcome or panel.outcome
        start = panel.period(self.intervention)
        data = panel.data
        post = (data[panel.time] >= start).to_numpy()
        y = data[outcome].to_numpy(dtype=float)
        a, b = y[~post], y[post]
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = float(np.sqrt(va + vb))
        df = float((va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1)))
        query = CalendarQuery(start, outcome=outcome, pre=int(a.size), post=int(b.size), design="its")

        def finish(cal: CalendarOutcome) -> EffectResult:                  # step 5: the result
            return make_result(
                method="Pre/post means (toy)", estimand="post mean minus pre mean", term="shift",
                outcome=outcome, estimate=float(b.mean() - a.mean()), se=se, alpha=alpha,
                inference=InferenceInfo("Analytic", "Welch standard error, t reference", df=df),
                panel=panel, spec={"estimator": self.name, "intervention": self.intervention},
                diagnostics=tuple(cal.checks), flags=cal.flags, plot_kind="estimate",
                intervention=str(start), n_obs=int(y.size),
                references=("Welch, B. L. (1947). Biometrika 34(1-2), 28-35.",))
        return FitCore(query, finish)

    @classmethod
    def contract_example(cls) -> tuple[PrePostMeans, Any, dict[str, Any]]:   # step 6: contract
        from evalint.data.panel import Panel

        rng = np.random.default_rng(11)
        y = 50 + rng.normal(0, 2, 40) + 3.0 * (np.arange(40) >= 24)
        df = pd.DataFrame({"month": pd.period_range("2019-01", periods=40, freq="M"), "y": y})
        return cls(), Panel.from_frame(df, time="month", outcome="y"), {"calendar": False}


@pytest.fixture(scope="module")
def registered():
    register_estimator(PrePostMeans)                                   # step 7: register
    try:
        yield PrePostMeans
    finally:
        ESTIMATORS.pop(PrePostMeans.name, None)


def test_toy_matches_scipy_welch(registered):
    est, panel, kwargs = registered.contract_example()
    r = est.fit(panel, **kwargs)
    y = panel.data["y"].to_numpy()
    ref = stats.ttest_ind(y[24:], y[:24], equal_var=False)
    assert r.estimate == pytest.approx(y[24:].mean() - y[:24].mean(), rel=1e-12)
    assert r.estimate / r.se == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-8)


def _contract_module() -> Any:
    """The contract suite's module (tests/ is not a package: loaded by path, or the copy pytest has)."""
    import importlib.util
    import sys
    from pathlib import Path

    if "test_estimator_contract" in sys.modules:
        return sys.modules["test_estimator_contract"]
    path = Path(__file__).with_name("test_estimator_contract.py")
    spec = importlib.util.spec_from_file_location("test_estimator_contract", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_estimator_contract"] = module
    spec.loader.exec_module(module)
    return module


def test_toy_passes_the_contract_suite(registered):
    import copy

    contract = _contract_module()

    est, panel, kwargs = registered.contract_example()
    data_before, est_before = panel.data.copy(deep=True), copy.deepcopy(est)
    fitted = (registered.name, est, est_before, panel, data_before, kwargs, est.fit(panel, **kwargs))
    contract.test_returns_effect_result_with_schema(fitted)
    contract.test_summary_and_plot_render(fitted)
    contract.test_no_mutation(fitted)
    contract.test_reproducible(fitted)
    contract.test_unsupported_inference_is_refused(fitted)
    contract.test_unsupported_inference_names_the_estimator(fitted)
    contract.test_inference_is_declared(registered.name)


def test_toy_runs_the_calendar_check_once(registered, monkeypatch):
    import evalint.estimators.template as template

    calls = []
    real = template.calendar_check
    monkeypatch.setattr(template, "calendar_check", lambda *a, **k: calls.append(1) or real(*a, **k))
    est, panel, _ = registered.contract_example()
    r = est.fit(panel)
    assert len(calls) == 1 and any(d.name == "policy_calendar" for d in r.diagnostics)
