"""The one result type every estimator returns.

:class:`EffectResult` is frozen: estimators build it once with :func:`make_result`.
Its tidy :meth:`EffectResult.to_frame` schema is the same for every estimator::

    term, estimate, std_error, statistic, p_value, conf_low, conf_high,
    group, time, rel_time, band_low, band_high

``band_low``/``band_high`` hold simultaneous (uniform) bands, kept apart from the
pointwise ``conf_low``/``conf_high``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from evalint._typing import check_alpha
from evalint._version import __version__
from evalint.diagnostics.base import CheckResult, Flag, flags_frame
from evalint.inference.normal import wald
from evalint.results.plots import result_plotter
from evalint.results.state import FamilyState
from evalint.results.summary import Summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.data.panel import Panel

__all__ = ["TIDY_COLUMNS", "EffectResult", "InferenceInfo", "Provenance", "make_result", "tidy"]

S = TypeVar("S", bound=FamilyState)

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high",
                "group", "time", "rel_time", "band_low", "band_high"]


@dataclass(frozen=True)
class InferenceInfo:
    """How uncertainty was computed, in words and numbers."""

    name: str
    description: str
    df: float | None = None
    clusters: int | None = None
    reps: int | None = None
    seed: int | None = None
    note: str = ""
    #: random draws behind a placebo/permutation p-value when they differ from ``reps``
    draws: int | None = None
    #: the placebo estimates behind a permutation interval (Conley-Taber), else ``None``
    placebo_estimates: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Provenance:
    """Where a result or an evaluation came from: package version, data fingerprint, seed, call.

    The one provenance type of evalint: an :class:`EffectResult` fills the first six fields;
    an :class:`~evalint.evaluate.Evaluation` also the evaluation's settings (the fingerprint of
    the analysed window, alpha, fast mode, replications, calendar, run time) and the versions
    of numpy and pandas (``environment``). The version is read from :mod:`evalint._version`.

    Attributes
    ----------
    evalint_version : str
    data_fingerprint : str or None
        :attr:`Panel.fingerprint <evalint.data.Panel.fingerprint>` of the data given.
    seed : int or None
    created : str
        UTC time stamp, ``YYYY-MM-DDTHH:MM:SSZ``.
    call : str
        The call that re-runs it ("" when not recorded).
    spec : mapping
        The estimator's settings (results).
    analysed_fingerprint, alpha, fast, replications, calendar, runtime_seconds : optional
        An evaluation's settings (``None`` for a single result).
    environment : mapping of str -> str
        Versions of the numerical libraries (evaluations: ``numpy``, ``pandas``).
    """

    evalint_version: str
    data_fingerprint: str | None
    seed: int | None
    created: str
    call: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict)
    analysed_fingerprint: str | None = None
    alpha: float | None = None
    fast: bool | None = None
    replications: Mapping[str, int] | None = None
    calendar: str | None = None
    runtime_seconds: float | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, panel: Panel | None = None, *, seed: int | None = None, call: str = "",
              spec: Mapping[str, Any] | None = None, **evaluation: Any) -> Provenance:
        """Stamp a provenance now (UTC) for ``panel``; ``evaluation`` fills the optional fields."""
        return cls(
            evalint_version=__version__,
            data_fingerprint=None if panel is None else panel.fingerprint,
            seed=seed,
            created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            call=call,
            spec=dict(spec or {}),
            **evaluation,
        )

    def facts(self) -> list[tuple[str, Any]]:
        """The recorded facts as ``(name, value)`` pairs for display, in field order.

        Unset optional fields are left out; the call and the spec are not facts (reports show
        the call on its own), the environment's versions come last under their own names.
        """
        out: list[tuple[str, Any]] = [("evalint_version", self.evalint_version),
                                      ("data_fingerprint", self.data_fingerprint)]
        if self.analysed_fingerprint is not None:
            out.append(("analysed_fingerprint", self.analysed_fingerprint))
        out.append(("seed", self.seed))
        for name, value in (("alpha", self.alpha), ("fast", self.fast),
                            ("replications", self.replications), ("calendar", self.calendar)):
            if value is not None:
                out.append((name, value))
        out.append(("created", self.created))
        if self.runtime_seconds is not None:
            out.append(("runtime_seconds", self.runtime_seconds))
        out.extend(self.environment.items())
        return out


def tidy(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Return ``frame`` with every tidy column present, in schema order (extras kept after)."""
    if frame is None:
        empty: pd.DataFrame = pd.DataFrame(columns=TIDY_COLUMNS)
        return empty
    out = frame.copy()
    for c in TIDY_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan if c not in ("term", "group", "time") else None
    extras = [c for c in out.columns if c not in TIDY_COLUMNS]
    result: pd.DataFrame = out[TIDY_COLUMNS + extras].reset_index(drop=True)
    return result


@dataclass(frozen=True, eq=False)
class EffectResult:
    """A fitted effect with its uncertainty, diagnostics, flags and provenance.

    Attributes
    ----------
    method : str
        E.g. ``"Segmented regression (OLS)"``, ``"Callaway-Sant'Anna"``.
    estimand : str
        What ``estimate`` is, in words (``"ATT, simple aggregation"``...).
    term : str
        Short name of the headline quantity, the first ``to_frame()`` row.
    outcome : str
        Outcome column (and ``outcome_label`` for display).
    estimate, se : float
    ci : (float, float)
        Pointwise (1 - alpha) interval of the headline estimate.
    p_value : float
    alpha : float
    scale : str
        ``"absolute"``, ``"rate_ratio"``, ``"percent"``... (how ``estimate`` reads).
    inference : InferenceInfo
    effects : pandas.DataFrame
        Per-period / per-group / event-time effects in the tidy schema.
    coefficients : pandas.DataFrame
        Model coefficients in the tidy schema (regression-based estimators).
    series : pandas.DataFrame or None
        Time series for plots (ITS: observed, fitted, counterfactual...; synth: treated, synthetic).
    tables : mapping of str -> DataFrame
        Estimator-specific tables (donor weights, Bacon decomposition...).
    diagnostics : tuple of CheckResult
    flags : tuple of Flag
    influence : numpy.ndarray or None
        Influence function rows keyed by ``influence_index`` (DiD).
    state : FamilyState or None
        The typed per-family state downstream code reads (C-S cells and influence functions,
        SCM V and donor weights, SDID unit/time weights, ITS model, event-study reference
        period); see :mod:`evalint.results.state` and :meth:`state_as`. ``None`` for
        estimators whose results nothing reads back (TWFE, Bacon, ASCM, pooled ITS).
    info : mapping of str -> str or number
        Display only: extra "label: value" lines of the summary, in order. Nothing reads them
        back; what code needs is in :attr:`state`.
    provenance : Provenance
    plot_kind : str
        Which figure :meth:`plot` draws: ``"its"``, ``"event_study"``, ``"synth"``, ``"estimate"``.
    references : tuple of str
        Citations for the method.
    """

    method: str
    estimand: str
    term: str
    outcome: str
    estimate: float
    se: float
    ci: tuple[float, float]
    p_value: float
    alpha: float
    inference: InferenceInfo
    provenance: Provenance
    effects: pd.DataFrame = field(default_factory=lambda: tidy(None))
    coefficients: pd.DataFrame = field(default_factory=lambda: tidy(None))
    series: pd.DataFrame | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    diagnostics: tuple[CheckResult, ...] = ()
    flags: tuple[Flag, ...] = ()
    influence: np.ndarray | None = None
    influence_index: pd.Index | None = None
    scale: str = "absolute"
    outcome_label: str = ""
    plot_kind: str = "estimate"
    intervention: Any = None
    n_obs: int | None = None
    n_units: int | None = None
    n_periods: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    state: FamilyState | None = None

    # ---------------------------------------------------------------- views
    def state_as(self, kind: type[S]) -> S:
        """The result's family state, checked to be a ``kind`` (e.g. ``CSState``).

        Raises
        ------
        SpecificationError
            The result is of another family (its method is named).
        """
        if not isinstance(self.state, kind):
            from evalint.errors import SpecificationError

            raise SpecificationError(
                f"this needs a result carrying a {kind.__name__} state; got a result of method "
                f"{self.method!r} (state {type(self.state).__name__}).")
        return self.state

    @property
    def conf_int(self) -> tuple[float, float]:
        """Alias of :attr:`ci`."""
        return self.ci

    def to_frame(self, which: str = "effects") -> pd.DataFrame:
        """Tidy table with the fixed schema (see module docstring).

        Parameters
        ----------
        which : {"effects", "overall", "coefficients", "all"}
            ``"effects"`` (default): the headline row then per-period/group rows;
            ``"overall"``: the headline row only; ``"coefficients"``: model terms;
            ``"all"``: all three, with a ``table`` column saying which.
        """
        stat = self._headline_statistic()
        head = tidy(pd.DataFrame([{
            "term": self.term, "estimate": self.estimate, "std_error": self.se, "statistic": stat,
            "p_value": self.p_value, "conf_low": self.ci[0], "conf_high": self.ci[1],
        }]))
        if which == "overall":
            return head
        eff = tidy(self.effects)
        if which == "effects":
            return tidy(pd.concat([head, eff], ignore_index=True)) if len(eff) else head
        coef = tidy(self.coefficients)
        if which == "coefficients":
            return coef
        if which == "all":
            parts = [head.assign(table="overall"), eff.assign(table="effects"), coef.assign(table="coefficients")]
            return tidy(pd.concat([p for p in parts if len(p)], ignore_index=True))
        from evalint.errors import SpecificationError

        raise SpecificationError(f"which={which!r}; use 'effects', 'overall', 'coefficients' or 'all'.")

    def _headline_statistic(self) -> float:
        """The test statistic of the headline row, on the scale its p-value is computed on.

        A rate ratio is tested on the log scale: z = log(RR) / SE(log RR), the model
        coefficient's own statistic (estimate / SE on the ratio scale would be a different,
        meaningless number).
        """
        if self.scale == "rate_ratio":
            coef = self.coefficients
            if isinstance(coef, pd.DataFrame) and len(coef) and "term" in coef and self.estimate > 0:
                row = coef.loc[coef["term"] == self.term]
                if len(row) and np.isclose(np.exp(float(row["estimate"].iloc[0])), self.estimate, rtol=1e-9):
                    return float(row["statistic"].iloc[0])
            if self.estimate > 0 and self.ci[0] > 0 and np.isfinite(self.ci[1]):
                from evalint.inference.normal import critical_value

                log_se = (np.log(self.ci[1]) - np.log(self.ci[0])) / (2 * critical_value(self.alpha, self.inference.df))
                return float(np.log(self.estimate) / log_se) if log_se > 0 else np.nan
            return np.nan
        return self.estimate / self.se if self.se and np.isfinite(self.se) and self.se > 0 else np.nan

    def flags_frame(self) -> pd.DataFrame:
        """The flags as a tidy table (kind, severity, message, source, event_id, start, end)."""
        return flags_frame(self.flags)

    def diagnostics_frame(self) -> pd.DataFrame:
        """Diagnostics as a table (name, passed, statistic, p_value, text; pre-trend tests also
        ``slope_80``, the linear violation per period they detect with 80% power, and
        ``bias_if_passed``, the bias of the effect at event time 0 at that slope among studies
        that pass; NaN for other checks)."""
        nan = float("nan")
        table: pd.DataFrame = pd.DataFrame(
            [{"name": d.name, "passed": d.passed, "statistic": d.statistic, "p_value": d.p_value,
              "slope_80": (d.power or {}).get("slope_80", nan),
              "bias_if_passed": (d.power or {}).get("bias_if_passed", nan),
              "text": d.text} for d in self.diagnostics],
            columns=["name", "passed", "statistic", "p_value", "slope_80", "bias_if_passed", "text"],
        )
        return table

    def summary(self) -> Summary:
        """A :class:`~evalint.results.summary.Summary`: ``str()`` for text, ``.as_markdown()``,
        ``.as_html()``, all rendered from the same content."""
        return Summary.from_result(self)

    def plot(self, kind: str | None = None, **kwargs: Any) -> Figure:
        """Draw the result's figure (see :func:`evalint.plotting.plot_result`).

        The plotting function is the one :mod:`evalint.plotting` registers in
        :mod:`evalint.results.plots` when imported (``import evalint`` imports it).
        """
        figure: Figure = result_plotter()(self, kind=kind, **kwargs)
        return figure

    def with_flags(self, flags: tuple[Flag, ...] | list[Flag]) -> EffectResult:
        """A copy with ``flags`` appended."""
        return dataclasses.replace(self, flags=tuple(self.flags) + tuple(flags))

    def with_alpha(self, alpha: float) -> EffectResult:
        """A copy with the headline interval recomputed at ``alpha`` (Wald, same df).

        Only a Wald interval can be recomputed from the result: one equal to ``estimate`` plus
        or minus a normal or t critical value times ``se`` (on the log scale for a rate ratio).
        Intervals from placebo ranks, test inversion (wild cluster bootstrap, Conley-Taber),
        conformal inference or bootstrap percentiles are not; for those the fit is run again.

        Raises
        ------
        InferenceError
            The headline interval is not a Wald interval: refit with ``alpha=`` instead.

        References
        ----------
        Wald, A. (1943). Tests of statistical hypotheses concerning several parameters when the
        number of observations is large. Trans. Amer. Math. Soc. 54(3), 426-482.
        """
        a = check_alpha(alpha)
        if a == self.alpha:  # nothing to recompute, whatever built the interval
            return self
        se = float("nan") if self.se is None else float(self.se)
        if not np.isfinite(se) and not np.any(np.isfinite(np.asarray(self.ci, dtype=float))):
            return dataclasses.replace(self, alpha=a)  # no interval at any level (e.g. a failed SE)
        self._require_wald_interval(a)
        if self.scale == "rate_ratio" and self.estimate > 0 and self.ci[0] > 0:
            # rate-ratio intervals are built on the log scale: recover its SE from the interval
            from evalint.inference.normal import critical_value

            log_se = (np.log(self.ci[1]) - np.log(self.ci[0])) / (2 * critical_value(self.alpha, self.inference.df))
            crit = critical_value(a, self.inference.df)
            lo, hi = (float(np.exp(np.log(self.estimate) - crit * log_se)),
                      float(np.exp(np.log(self.estimate) + crit * log_se)))
            return dataclasses.replace(self, alpha=a, ci=(lo, hi))
        _, p, lo, hi = wald(self.estimate, self.se, a, self.inference.df)
        return dataclasses.replace(self, alpha=a, ci=(lo, hi), p_value=p)

    def _require_wald_interval(self, alpha: float) -> None:
        """Refuse :meth:`with_alpha` when the headline interval is not the Wald one it would
        rebuild (a placebo, permutation, bootstrap or conformal interval would be silently
        replaced by a different procedure's)."""
        lo, hi = self.ci
        if self.scale == "rate_ratio" and self.estimate > 0 and lo > 0 and np.isfinite(hi):
            # symmetric about log(estimate) on the log scale
            ok = bool(np.isclose(np.log(self.estimate) - np.log(lo), np.log(hi) - np.log(self.estimate),
                                 rtol=1e-6, atol=1e-12))
        else:
            _, p, wlo, whi = wald(self.estimate, self.se, self.alpha, self.inference.df)
            ok = bool(np.all(np.isfinite([lo, hi, wlo, whi]))
                      and np.allclose([lo, hi], [wlo, whi], rtol=1e-6, atol=1e-12)
                      and np.isclose(p, self.p_value, rtol=1e-6, atol=1e-12))
        if not ok:
            from evalint.errors import InferenceError

            raise InferenceError(
                f"with_alpha({alpha}): the interval of {self.method!r} ({self.inference.name}: "
                f"{self.inference.description}) is not a Wald interval estimate +/- critical value x SE, "
                f"so it cannot be recomputed from the result without changing the method. Fit again "
                f"with alpha={alpha} instead.")

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (f"EffectResult({self.method}: {self.term} = {self.estimate:.4g} "
                f"[{lo:.4g}, {hi:.4g}], se {self.se:.4g}; {len(self.flags)} flag(s))")

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def make_result(
    *,
    method: str,
    estimand: str,
    term: str,
    outcome: str,
    estimate: float,
    se: float,
    alpha: float = 0.05,
    inference: InferenceInfo,
    panel: Panel | None = None,
    seed: int | None = None,
    spec: Mapping[str, Any] | None = None,
    ci: tuple[float, float] | None = None,
    p_value: float | None = None,
    **kwargs: Any,
) -> EffectResult:
    """Build an :class:`EffectResult`, filling the Wald p-value and CI from (estimate, se)
    unless given (bootstrap/placebo intervals pass their own ``ci`` and ``p_value``)."""
    a = check_alpha(alpha)
    _, p, lo, hi = wald(estimate, se, a, inference.df)
    label = kwargs.pop("outcome_label", "")
    if not label and panel is not None and outcome in getattr(panel, "outcome_kinds", {}):
        kind = panel.outcome_kinds[outcome]
        label = outcome if kind.name == "continuous" else kind.label
    return EffectResult(
        method=method, estimand=estimand, term=term, outcome=outcome, estimate=float(estimate),
        se=float(se) if se is not None else float("nan"),
        ci=ci if ci is not None else (lo, hi),
        p_value=float(p_value) if p_value is not None else p, alpha=a, inference=inference,
        provenance=Provenance.build(panel, seed=seed, call=kwargs.pop("call", ""), spec=spec),
        outcome_label=label or outcome,
        n_units=kwargs.pop("n_units") if "n_units" in kwargs else None if panel is None else panel.n_units,
        n_periods=(kwargs.pop("n_periods") if "n_periods" in kwargs
                   else None if panel is None else panel.n_periods),
        **kwargs,
    )
