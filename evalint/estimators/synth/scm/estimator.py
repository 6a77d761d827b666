"""Abadie synthetic control: predictors, predictor weights V, donor weights W.

For a treated unit with predictors :math:`X_1` (K) and donors' :math:`X_0` (K x J), the
donor weights solve

.. math:: W(V) = \\arg\\min_{w \\in \\Delta} (X_1 - X_0 w)' V (X_1 - X_0 w),

with V diagonal, non-negative, summing to one (predictors standardised by their standard
deviation across units). V is chosen (Abadie, Diamond & Hainmueller 2010, Section 2.3):

* ``"nested"``: minimise the pre-period mean squared prediction error of the outcome,
  :math:`\\frac{1}{T_0}\\|Z_1 - Z_0 W(V)\\|^2`, over V (outer derivative-free search on
  :math:`V = |x| / \\sum|x|`, as Synth parametrises it: the equal and regression-based V
  themselves, Powell from each, a single Nelder–Mead from equal V, then a Nelder–Mead polish
  from the best; the best of all is kept and the loss from each start is reported
  (``UnitFit.v_search``; the ``scm_v_search`` check, which flags V concentrated above 90% on
  one predictor); inner exact
  :func:`~evalint.estimators.synth.simplex.simplex_least_squares`). The outer loss is
  piecewise smooth with many local minima, so different software lands on different
  (close) optima;
* ``"regression"``: :math:`v_k \\propto \\sum_t \\beta_{kt}^2` from regressing each
  pre-period outcome on the standardised predictors across units (Kaul et al. 2015;
  Stata ``synth`` default);
* ``"equal"`` or a custom vector.

Without predictors (``predictors=None``) every pre-period outcome is a predictor with
equal weight, i.e. W minimises the pre-period MSPE directly ("outcome-only" SC).

The effect at period t is the gap :math:`Y_{1t} - \\sum_j w_j Y_{jt}`; the headline is the
average post-treatment gap (averaged over treated units, each fitted separately, when
there are several).

References
----------
Abadie, A. & Gardeazabal, J. (2003). The economic costs of conflict. *AER* 93(1), 113-132.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493-505.
Abadie, A. (2021). Using synthetic controls. *JEL* 59(2), 391-425.
Kaul, A., Klößner, S., Pfeifer, G. & Schieler, M. (2015). Synthetic control methods: never
use all pre-intervention outcomes together with covariates. MPRA Paper 83790.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from evalint._typing import check_option, check_positive_int
from evalint.errors import SpecificationError, warn_deprecated_setting
from evalint.estimators.template import FitTemplate
from evalint.inference.placebo_rank import PlaceboRefit
from evalint.inference.specs import Placebo
from evalint.estimators.base import check_options, register_estimator
from evalint.estimators.synth.matrices import Predictor, synth_design
from evalint.estimators.synth.scm.placebo import assemble_scm_result, scm_headline
from evalint.estimators.synth.scm.weights import SCMProblem

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["SyntheticControl", "synthetic_control"]

REFERENCES = (
    ("Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative "
    "case studies. JASA 105(490), 493-505."),
    ("Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and methodological "
    "aspects. JEL 59(2), 391-425."),
)


# --------------------------------------------------------------------------- estimator
_UNSET: Any = object()


def placebo_seed(inference: Any, seed: Any, where: str) -> Any:
    """Map the deprecated ``seed=`` of a synthetic-control fit to ``inference=Placebo(seed=...)``
    (with a :class:`~evalint.errors.SettingDeprecationWarning`); an explicit spec keeps its own seed."""
    if seed is _UNSET:
        return inference
    spec = inference if inference is not None else Placebo(seed=seed)
    warn_deprecated_setting(f"{where}(seed={seed!r})", f"inference={Placebo(seed=seed)!r}"
                            + ("" if inference is None else " (the inference given keeps its own seed)"))
    return spec


@register_estimator
@dataclass(frozen=True)
class SyntheticControl(FitTemplate):
    """Abadie synthetic control with predictors, nested V and placebo inference.

    Parameters
    ----------
    predictors : sequence of Predictor, optional
        Predictors (outcome lags / covariate means over windows). ``None``: outcome-only
        SC (every pre-period outcome, equal weights).
    v_method : {"nested", "regression", "equal", "custom"}
        How predictor weights V are chosen (ignored without predictors).
    custom_v : sequence of float, optional
        V for ``v_method="custom"``.
    optimization_window : (start, end), optional
        Pre-period window whose outcome MSPE the nested V minimises (default: all of it).
    standardize : bool
        Divide predictors by their standard deviation across units (as Synth does).
    prefit_tolerance : float
        Flag a poor pre-treatment fit when the pre-period RMSPE exceeds this share of the
        treated unit's mean absolute pre-period outcome.
    leave_one_out : bool
        Refit dropping each donor with positive weight (robustness table).
    max_evaluations : int
        Nelder–Mead budget per start for the nested V.

    References
    ----------
    Abadie, Diamond & Hainmueller (2010); Abadie (2021).
    """

    name: ClassVar[str] = "synthetic_control"
    supported_inference: ClassVar[tuple[type, ...]] = (Placebo,)
    #: what the fit hands the inference layer (specs registered for it are accepted too)
    inference_interface: ClassVar[type] = PlaceboRefit
    inference_label: ClassVar[str] = "SyntheticControl"

    predictors: tuple[Predictor, ...] | None = None
    v_method: str = "nested"
    custom_v: tuple[float, ...] | None = None
    optimization_window: tuple[Any, Any] | None = None
    standardize: bool = True
    prefit_tolerance: float = 0.1
    leave_one_out: bool = True
    max_evaluations: int = 3000

    def __post_init__(self) -> None:
        check_option("v_method", self.v_method, ("nested", "regression", "equal", "custom"))
        check_positive_int("max_evaluations", self.max_evaluations, minimum=10)
        if self.predictors is not None:
            preds = tuple(self.predictors)
            if not preds or not all(isinstance(p, Predictor) for p in preds):
                raise SpecificationError("predictors must be a non-empty sequence of Predictor(...) objects, or None.")
            object.__setattr__(self, "predictors", preds)
        if self.v_method == "custom" and self.custom_v is None:
            raise SpecificationError("v_method='custom' needs custom_v=(one weight per predictor).")
        if self.custom_v is not None:
            object.__setattr__(self, "custom_v", tuple(float(x) for x in self.custom_v))
        if not (isinstance(self.prefit_tolerance, (int, float)) and self.prefit_tolerance > 0):
            raise SpecificationError(f"prefit_tolerance must be > 0; got {self.prefit_tolerance!r}.")

    def problem(self, panel: Panel, predictor_data: pd.DataFrame | None = None) -> SCMProblem:
        """The refit recipe (used by placebos)."""
        return SCMProblem(self.predictors, self.v_method, self.custom_v, self.optimization_window,
                          self.standardize, self.max_evaluations, panel, predictor_data)

    def default_inference(self) -> Placebo:
        """``inference=None``: in-space placebos over every donor (``Placebo()``, seed 0)."""
        return Placebo()

    def fit(self, panel: Panel, *, treated: Any = None, intervention: Any = None,
            donors: Sequence[Any] | None = None, outcome: str | None = None,
            predictor_data: pd.DataFrame | None = None, inference: Any = None,
            calendar: Any = None, alpha: float = 0.05, seed: Any = _UNSET,
            placebo_reps: int = 1000) -> EffectResult:
        """Fit the synthetic control of each treated unit and run placebo inference.

        Parameters
        ----------
        panel : Panel
        treated, intervention, donors, outcome
            See :func:`~evalint.estimators.synth.matrices.synth_design`.
        predictor_data : DataFrame, optional
            Long frame (panel's unit and time columns) with predictor variables that may
            have gaps outside the windows used (e.g. the ADH covariates).
        inference : Placebo, optional
            In-space placebos over all donors (the default and only option).
        calendar : PolicyCalendar, False or None
            Policy-calendar check (``False`` skips it).
        alpha : float
        seed : int
            Deprecated (a :class:`~evalint.errors.SettingDeprecationWarning`): pass
            ``inference=Placebo(seed=...)``, the one way a seed reaches the fit (it seeds the Monte
            Carlo p-value for several treated units). Still honoured for one release when
            ``inference`` is not given.
        placebo_reps : int
            Draws for that p-value.

        Returns
        -------
        EffectResult
        """
        inference = placebo_seed(inference, seed, "SyntheticControl.fit")
        return self.run_fit(panel, inference=inference, calendar=calendar, alpha=alpha, treated=treated,
                            intervention=intervention, donors=donors, outcome=outcome,
                            predictor_data=predictor_data, placebo_reps=placebo_reps)

    def _fit_core(self, panel: Any, inference: Any, *, alpha: float, calendar: Any,
                  treated: Any = None, intervention: Any = None,
                  donors: Sequence[Any] | None = None, outcome: str | None = None,
                  predictor_data: pd.DataFrame | None = None, placebo_reps: int = 1000,
                  headline: bool = False) -> Any:

        design = synth_design(panel, treated=treated, intervention=intervention, donors=donors,
                              outcome=outcome)
        prob = self.problem(panel, predictor_data)
        fits = [prob.fit_unit(u, design.donors, design.Y, design.periods, design.start[u])
                for u in design.treated]
        if headline:
            return scm_headline(prob, design, fits, inference=inference, alpha=alpha, placebo_reps=placebo_reps)
        return assemble_scm_result(self, prob, design, fits, panel=panel, inference=inference,
                                   calendar=calendar, alpha=alpha, seed=None, placebo_reps=placebo_reps,
                                   method="Synthetic control (Abadie)")

    def headline(self, panel: Panel, *, outcome: str | None = None, inference: Any = None, alpha: float = 0.05,
                 placebo_reps: int = 1000) -> tuple[float, float, tuple[float, float], float]:
        """``(estimate, se, ci, p_value)`` of :meth:`fit`'s result (the panel's own treated units,
        donors and date), without its tables, diagnostics, calendar check or provenance.

        For refits that read only these numbers (the robustness section's re-estimates): the
        same weights, in-space placebo fits and placebo inference as ``fit``, so the same
        numbers. The caller checks the panel (``fit``'s input guards do not run here).

        References
        ----------
        Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
        comparative case studies. JASA 105(490), 493-505.
        """
        spec = self._resolve_inference(inference)
        out = self._fit_core(panel, spec, alpha=alpha, calendar=False, outcome=outcome, placebo_reps=placebo_reps,
                             headline=True)
        assert isinstance(out, tuple)
        return out

    @classmethod
    def contract_example(cls) -> tuple[SyntheticControl, Panel, dict[str, Any]]:
        """A small simulated panel: 1 treated unit, 8 donors, 24 quarters, effect -2."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(11)
        units, T = 9, 24
        f = np.cumsum(rng.normal(size=T))
        load = rng.uniform(0.5, 1.5, size=units)
        load[0] = np.mean(load[1:4])
        rows = []
        for i in range(units):
            for t in range(T):
                y = 10 + load[i] * f[t] + rng.normal(scale=0.2) - (2.0 if i == 0 and t >= 18 else 0.0)
                rows.append({"unit": f"u{i}", "time": pd.Period("2020Q1", "Q") + t, "y": y,
                             "treated": int(i == 0 and t >= 18)})
        panel = Panel.from_frame(pd.DataFrame(rows), unit="unit", time="time", outcome="y",
                                 treatment="treated")
        return cls(leave_one_out=False), panel, {"calendar": False}


def synthetic_control(panel: Panel, *, treated: Any = None, intervention: Any = None,
                      donors: Sequence[Any] | None = None, outcome: str | None = None,
                      predictors: Sequence[Predictor] | None = None, v_method: str = "nested",
                      predictor_data: pd.DataFrame | None = None, inference: Any = None,
                      calendar: Any = None, alpha: float = 0.05, seed: Any = _UNSET,
                      **options: Any) -> EffectResult:
    """Convenience wrapper: ``SyntheticControl(predictors=..., v_method=..., **options).fit(panel, ...)``.

    ``seed=`` is deprecated: pass ``inference=Placebo(seed=...)``.

    References
    ----------
    Abadie, Diamond & Hainmueller (2010).
    """
    check_options("synthetic_control", SyntheticControl, options,
                  ("treated", "donors", "outcome", "predictor_data", "inference", "calendar", "alpha"))
    est = SyntheticControl(predictors=None if predictors is None else tuple(predictors),
                           v_method=v_method, **options)
    inference = placebo_seed(inference, seed, "synthetic_control")
    return est.fit(panel, treated=treated, intervention=intervention, donors=donors, outcome=outcome,
                   predictor_data=predictor_data, inference=inference, calendar=calendar, alpha=alpha)
