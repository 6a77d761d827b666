"""Replication runner for ``reference_data/sicily_its/target.toml``.

Refits, with evalint's own ITS estimators, the models of
``shared/reference/sicily_its/r_reference.R`` (R 4.2.2 ``glm``, ``lm`` +
``sandwich::NeweyWest``, ``nlme::gls`` with AR(1) errors by ML) on the Sicily smoking-ban
data of Lopez Bernal, Cummins & Gasparrini (2017), and returns every coefficient, standard
error and dispersion under the quantity names of the target file:
``<model_id>:<R term>:estimate``, ``<model_id>:<R term>:std_error``,
``<model_id>:dispersion`` and ``gls_ar1_ml:phi``.

References
----------
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. Int J Epidemiol 46:348-355.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from evalint.data.panel import Panel
from evalint.datasets import load
from evalint.estimators.its.counts import CountITS
from evalint.estimators.its.segmented import SegmentedRegression
from evalint.inference.specs import Analytic, ARErrors, NeweyWest
from evalint.outcomes import OutcomeKind

__all__ = ["run_sicily_its", "sicily_panel", "SICILY_TERMS"]

#: R term -> evalint design column (interruption named "smokban").
SICILY_TERMS = {"(Intercept)": "intercept", "time": "time", "smokban": "level_smokban",
                "post_time": "slope_smokban", "sin1": "sin1", "cos1": "cos1", "sin2": "sin2", "cos2": "cos2"}

_ACE = OutcomeKind(name="acute_coronary_episodes", label="Acute coronary episodes", measure="count",
                   unit_label="episodes per month", exposure="population", default_its_model="quasi_poisson",
                   cumulative_label="episodes avoided")
_RATE = OutcomeKind(name="ace_rate", label="Acute coronary episodes per 100,000 (age-standardised)",
                    measure="continuous", unit_label="per 100,000 per month", default_its_model="ols")


def sicily_panel(frame: pd.DataFrame | None = None) -> Panel:
    """The Sicily series as a Panel: ``aces`` (count), ``rate`` = aces/stdpop*1e5, population ``stdpop``."""
    if frame is None:
        frame = load("sicily_its")
    d = pd.DataFrame({
        "month": [f"{int(y):04d}-{int(m):02d}" for y, m in zip(frame["year"], frame["month"])],
        "aces": frame["aces"].to_numpy(float),
        "rate": frame["aces"].to_numpy(float) / frame["stdpop"].to_numpy(float) * 1e5,
        "stdpop": frame["stdpop"].to_numpy(float),
    })
    return Panel.from_frame(d, time="month", outcome=["aces", "rate"], population="stdpop",
                            outcome_kind={"aces": _ACE, "rate": _RATE})


def _collect(out: dict[str, float], model_id: str, res: Any, terms: list[str]) -> None:
    coef = res.coefficients.set_index("term")
    for r_term in terms:
        col = SICILY_TERMS[r_term]
        out[f"{model_id}:{r_term}:estimate"] = float(coef.loc[col, "estimate"])
        out[f"{model_id}:{r_term}:std_error"] = float(coef.loc[col, "std_error"])


def run_sicily_its(target: dict[str, Any] | None = None, frame: pd.DataFrame | None = None) -> dict[str, float]:
    """Reproduce every quantity of the ``sicily_its`` target (see module docstring)."""
    panel = sicily_panel(frame)
    ban = {"smokban": "2005-01"}
    kw: dict[str, Any] = {"calendar": False, "outcome": "aces", "inference": Analytic()}
    out: dict[str, float] = {}
    step = ["(Intercept)", "smokban", "time"]
    harm = ["sin1", "cos1", "sin2", "cos2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CountITS(interventions=ban, impact="step", model="poisson").fit(panel, **kw)
        _collect(out, "poisson_step", r, step)
        r = CountITS(interventions=ban, impact="step", model="quasi_poisson").fit(panel, **kw)
        _collect(out, "quasipoisson_step", r, step)
        out["quasipoisson_step:dispersion"] = _dispersion(r)
        r = CountITS(interventions=ban, impact="step", model="quasi_poisson", seasonality="fourier",
                     harmonics=2).fit(panel, **kw)
        _collect(out, "quasipoisson_step_harmonic2", r, step + harm)
        out["quasipoisson_step_harmonic2:dispersion"] = _dispersion(r)
        r = CountITS(interventions=ban, impact="step_slope", model="quasi_poisson", seasonality="fourier",
                     harmonics=2).fit(panel, **kw)
        _collect(out, "quasipoisson_step_slope_harmonic2", r, step + ["post_time"] + harm)
        kw["outcome"] = "rate"
        del kw["inference"]
        lin = ["(Intercept)", "time", "smokban", "post_time"]
        seg = SegmentedRegression(interventions=ban, impact="step_slope")
        for model_id, inf in (("ols_hac_lag3", NeweyWest(lags=3)),
                              ("ols_hac_lag3_adjusted", NeweyWest(lags=3, small_sample=True)),
                              ("ols_hac_lag6", NeweyWest(lags=6)),
                              ("ols_plain", Analytic())):
            _collect(out, model_id, seg.fit(panel, inference=inf, **kw), lin)
        r = seg.fit(panel, inference=ARErrors(order=1, method="ml", adjust=False), **kw)
        _collect(out, "gls_ar1_ml", r, lin)
        out["gls_ar1_ml:phi"] = float(r.tables["ar_errors"]["phi"].iloc[0])
    return out


def _dispersion(result: Any) -> float:
    """The Pearson dispersion of a quasi-Poisson ITS result (from its typed state)."""
    from evalint.estimators.its.state import ITSState

    value = result.state_as(ITSState).pearson_dispersion
    return float("nan") if value is None else float(value)
