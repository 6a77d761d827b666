"""``evaluate()``: one question answered by every design the data support.

:func:`evaluate` resolves the intervention, chooses the designs
(:mod:`evalint.evaluate.designs`), fits each design to each outcome
(:mod:`evalint.evaluate.runners`), puts the effects on a common scale
(:mod:`evalint.evaluate.scale`), triangulates them
(:mod:`evalint.evaluate.triangulate`) and returns an :class:`Evaluation` holding the
results, the reasons for skipped or failed designs, the flags and the provenance.

References
----------
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. IJE 46(1), 348-355.
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. JASA 105(490), 493-505.
Arkhangelsky, D., Athey, S., Hirshberg, D.A., Imbens, G.W. & Wager, S. (2021). Synthetic
difference-in-differences. American Economic Review 111(12), 4088-4118.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalint._forked import default_jobs, forked_map
from evalint._typing import check_alpha
from evalint.data.ordinal import relabel_text
from evalint.diagnostics.base import flags_frame
from evalint.errors import EvalintError, OutputError, SpecificationError, plain
from evalint.evaluate.context import Context as _Context
from evalint.evaluate.context import derived_panel as _derived_panel
from evalint.evaluate.designs import Assignment, DesignPlan, choose_designs, resolve_assignment
from evalint.evaluate.registry import get_variant, option_keys, replications, variants
from evalint.evaluate.renderers import renderer, writer, writer_suffixes
from evalint.evaluate.plugins.its import _its_options
from evalint.evaluate.runners import _fit, _scaled
from evalint.evaluate.scale import (
    CellTotals,
    ScaledEffect,
    ScaleSpec,
    scale_spec,
    treated_post_totals,
)
from evalint.evaluate.triangulate import Entry, Verdict, table_rows, verdict_for
from evalint.results.effect import Provenance

__all__ = ["FAST_REPS", "FULL_REPS", "DesignFailure", "Evaluation", "evaluate"]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DesignFailure:
    """A design that was attempted on an outcome and failed; reported, never hidden."""

    design: str
    outcome: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"


class _Replications(Mapping[str, int]):
    """Design replications name -> number (full or ``fast``), read from the design registry."""

    def __init__(self, fast: bool) -> None:
        self._fast = fast

    def __getitem__(self, key: str) -> int:
        return replications(self._fast)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(replications(self._fast))

    def __len__(self) -> int:
        return len(replications(self._fast))

    def __repr__(self) -> str:
        return repr(replications(self._fast))


#: bootstrap / placebo replications each design declares (CS multiplier bootstrap, SDID placebo,
#: SCM p-value draws): a view of the design registry
FULL_REPS: Mapping[str, int] = _Replications(False)
FAST_REPS: Mapping[str, int] = _Replications(True)

@dataclass(frozen=True)
class _FitRecord:
    """What fitting one design to one outcome produced (picklable: it may come from a helper)."""

    result: Any
    extra: dict[str, Any] | None
    fitted: bool
    scaled: ScaledEffect | None
    error: tuple[str, str] | None  # (exception type, "error: message") when the fit or its scaling failed
    warnings: tuple[tuple[str, str], ...]  # (category, message) in the order they were raised
    seconds: float


def _fit_one(plan: DesignPlan, ctx: _Context, outcome: str, totals: CellTotals, spec: ScaleSpec) -> _FitRecord:
    """Fit ``plan``'s design to ``outcome`` and put it on the common scale; a failure is recorded, never raised."""
    t0 = time.perf_counter()
    res: Any = None
    extra: dict[str, Any] | None = None
    fitted = False
    sc: ScaledEffect | None = None
    error: tuple[str, str] | None = None
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            res, extra = _fit(plan, ctx, outcome)
            fitted = True
            sc = _scaled(plan.key, res, ctx, outcome, totals, spec)
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its message
            kind = "error" if isinstance(exc, EvalintError) else "unexpected error"
            error = (type(exc).__name__, f"{kind}: {exc}")
    caught = tuple((w.category.__name__, str(w.message)) for w in rec)
    return _FitRecord(res, extra, fitted, sc, error, caught, time.perf_counter() - t0)


def _variant_cost(key: str) -> float:
    v = get_variant(key)
    return 1.0 if v is None else float(v.cost)


# --------------------------------------------------------------------------- the call string
def _call_string(intervention: Any, kwargs: Mapping[str, Any]) -> str:
    from evalint.calendar.presets import Intervention

    iv = intervention.name if isinstance(intervention, Intervention) else intervention
    if isinstance(iv, pd.Period):
        iv = str(iv)
    if isinstance(iv, Mapping):
        iv = {str(k): str(v) for k, v in iv.items()}
    parts = [f"intervention={iv!r}"]
    for k, v in kwargs.items():
        if isinstance(v, tuple):
            v = list(v)
        parts.append(f"{k}={v!r}")
    return "evalint.evaluate(panel, " + ", ".join(parts) + ")"


def _check_design_options(options: Mapping[str, Any], panel: Any, outcomes: tuple[str, ...]) -> None:
    """Each design's options, before any fit: a mapping per key, names the design takes, values its
    estimator accepts (the variants' ``check_options``); a mistake stops the evaluation."""
    for key, value in options.items():
        if not isinstance(value, Mapping):
            raise SpecificationError(
                f"options[{key!r}] must be a mapping of option name -> value (in a configuration file, a table "
                f"[evaluation.options.{key}] with name = value lines); got "
                f"{plain(value)!r} ({type(value).__name__}).")
    done: set[tuple[str, Any]] = set()
    for v in variants():
        key = v.option_key
        if v.check_options is None or key not in options or (key, v.check_options) in done:
            continue
        done.add((key, v.check_options))
        v.check_options(dict(options[key]), panel, outcomes)


# --------------------------------------------------------------------------- public API
def evaluate(
    panel: Any,
    intervention: Any = None,
    *,
    outcomes: Sequence[str] | str | None = None,
    designs: str | Sequence[str] = "auto",
    treated: Sequence[Any] | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    fast: bool = False,
    calendar: Any = None,
    start: Any = None,
    end: Any = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Progress | None = None,
    call: str | None = None,
    robustness: bool | Mapping[str, Any] = True,
    jobs: int | None = None,
) -> Evaluation:
    """Answer "did the intervention change these outcomes?" with every design the data support.

    Parameters
    ----------
    panel : Panel
        Units x periods (e.g. 42 ICBs x months) with the outcomes, ideally ``population=``
        (rates per 100,000) and ``weights=`` (spells, for bed-days).
    intervention : str, date-like, mapping unit -> date, Intervention or None
        A calendar preset (``"ics_golive_2022"``, ``"ics_waves"``, ``"asc_discharge_fund_2022"``,
        ``"bcf_2015"``, ``"vanguards_2015"``), one date, a mapping unit -> first treated date
        (other units are comparisons), or ``None`` for the panel's own treatment timing (a panel
        built with ``treatment=`` / ``cohort=``; an intervention that contradicts that timing is
        refused).
    outcomes : sequence of str, optional
        Default: all the panel's outcomes.
    designs : "auto" or sequence of str
        Registered design names (:func:`evalint.evaluate.registry.design_names`: ``"its"``,
        ``"did"``, ``"synth"`` built in). ``"auto"`` runs every design the data support and
        records why the others were skipped.
    treated : sequence or str, optional
        Units treated at a single ``intervention`` date (default: every unit, or the preset's); a
        string is one unit, matched as written or by its text (``"4"`` names unit 4). Refused
        with a preset that gives each unit its own date (``"ics_waves"``).
    alpha : float
        1 - confidence level of every interval.
    seed : int
        Seed of every bootstrap / placebo draw (bit-for-bit reproducible).
    fast : bool
        Fewer bootstrap / placebo replications (:data:`FAST_REPS`) and no SCM leave-one-out
        refits: for tests and vignettes.
    calendar : PolicyCalendar, None or False
        Policy calendar for confounding flags (``None``: the packaged one; ``False``: off).
    start, end : date-like, optional
        Analysis window (e.g. ``start="2020-09"`` to leave out the first COVID-19 wave); both
        included, and an end named as a year, quarter or month (``end="2020"``) includes all of it.
    options : mapping, optional
        Per-design estimator options: ``{"its": {...}, "did": {...}, "scm": {...}, "sdid": {...}}``
        (the keys are :func:`evalint.evaluate.registry.option_keys`). Checked before any fit: an
        option a design does not take, or a value its estimator refuses, raises.
    progress : callable, optional
        ``progress(done, total, label)`` before each fit and once at the end.
    call : str, optional
        The re-run instruction recorded in the provenance (default: this call).
    robustness : bool or mapping
        The "How robust is this?" section (:mod:`evalint.evaluate.robustness`): churn
        re-estimates, placebo dates, leave-one-out, negative controls, HonestDiD and pre-trend
        power, and the fragility rule applied to the verdicts. ``False`` switches it off; a
        mapping may name ``checks`` and ``negative_controls`` (a list, or outcome -> list).
    jobs : int, optional
        Processes sharing the fits and the robustness checks: this one and ``jobs - 1`` helpers
        forked from it (Linux; elsewhere, and with 1, everything runs here). The results are the
        same, bit for bit, whatever ``jobs`` (:mod:`evalint._forked`). Default: the environment
        variable ``EVALINT_JOBS``, else 1. With ``jobs > 1``, ``progress`` is called by the process
        that runs the fit (a helper's call writes to the same terminal; what it changes in Python
        objects stays in the helper); the final call is made here.

    Returns
    -------
    Evaluation

    Raises
    ------
    evalint.errors.SpecificationError
        Unknown outcome, design or preset; a design option that is unknown or refused; ``treated``
        with a staggered preset; an intervention contradicting the panel's own timing; nothing
        treated.
    evalint.errors.TreatmentError
        Units treated before the data start.

    References
    ----------
    See :mod:`evalint.evaluate.core`.
    """
    from evalint.data.panel import Panel

    if not isinstance(panel, Panel):
        raise SpecificationError(f"evaluate() expects an evalint Panel (Panel.from_frame); got {type(panel).__name__}.")
    a = check_alpha(alpha)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecificationError(f"seed must be a non-negative integer; got {seed!r}.")
    if not isinstance(fast, (bool, np.bool_)):
        raise SpecificationError(f"fast must be True or False; got {fast!r} ({type(fast).__name__}). "
                                 "A string such as 'false' would read as true.")
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    outs = list(panel.outcomes) if outcomes is None else list(outcomes)
    unknown = [o for o in outs if o not in panel.outcomes]
    if unknown or not outs:
        raise SpecificationError(
            f"outcomes {unknown or outs!r} are not outcomes of this panel; its outcomes are "
            f"{', '.join(panel.outcomes)}. Build the panel with outcome=[...] listing them."
        )
    if jobs is None:
        n_jobs = default_jobs()
    elif isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise SpecificationError(f"jobs must be a positive integer (processes); got {jobs!r}.")
    else:
        n_jobs = int(jobs)
    if options is not None and not isinstance(options, Mapping):
        raise SpecificationError("options must be a mapping design key -> options, e.g. "
                                 f"{{'its': {{'harmonics': 1}}}}; got {type(options).__name__}.")
    options = dict(options or {})
    keys = option_keys()
    bad_opt = [k for k in options if k not in keys]
    if bad_opt:
        raise SpecificationError(f"options has unknown design key(s) {bad_opt}; use {', '.join(map(repr, keys))}.")
    _check_design_options(options, panel, tuple(outs))
    started = time.perf_counter()
    work = panel.subset(start=start, end=end) if (start is not None or end is not None) else panel
    assignment = resolve_assignment(work, intervention, treated)
    plans, skipped = choose_designs(work, assignment, designs)
    if work.is_ordinal:  # the reasons name periods: as the user's period numbers
        skipped = {k: relabel_text(v) for k, v in skipped.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohort_panel = _derived_panel(work, assignment.cohort, "none")
    ctx = _Context(panel=cohort_panel, assignment=assignment, alpha=a, seed=int(seed), fast=bool(fast),
                   calendar=calendar, options=options)
    results: dict[tuple[str, str], Any] = {}
    extras: dict[tuple[str, str], dict[str, Any]] = {}
    entries: dict[tuple[str, str], Entry] = {}
    scaled: dict[tuple[str, str], ScaledEffect] = {}
    runtimes: dict[tuple[str, str], float] = {}
    caught: list[dict[str, str]] = []
    totals = {o: treated_post_totals(cohort_panel, assignment.cohort, o) for o in outs}
    specs = {o: scale_spec(cohort_panel, o) for o in outs}
    pairs = [(o, plan) for o in outs for plan in plans]
    total = len(pairs)

    # the costliest fits first, so that the processes finish together; the records come back in
    # task order and are assembled below in the order of ``pairs``, whatever ``jobs``
    order = sorted(range(total), key=lambda i: -_variant_cost(pairs[i][1].key)) if n_jobs > 1 else range(total)

    def fit_task(started: int) -> _FitRecord:
        o, plan = pairs[order[started]]
        if progress is not None:  # in the process that runs the fit; tasks start in this order
            progress(started, total, f"{plan.label} on {o}")
        return _fit_one(plan, ctx, o, totals[o], specs[o])

    records = dict(zip(order, forked_map([functools.partial(fit_task, k) for k in range(total)], n_jobs)))
    for step, (o, plan) in enumerate(pairs):
        rec = records[step]
        res = rec.result
        if rec.fitted and rec.extra is not None:
            extras[(plan.key, o)] = rec.extra
        if rec.error is None and rec.scaled is not None:
            scaled[(plan.key, o)] = rec.scaled
            results[(plan.key, o)] = res
            entries[(plan.key, o)] = Entry(plan.key, plan.label, o, scaled=rec.scaled, result=res,
                                           diagnostics=tuple(res.diagnostics), flags=tuple(res.flags))
        else:
            fail = DesignFailure(plan.key, o, *(rec.error or ("RuntimeError", "unexpected error: no scaled effect")))
            results[(plan.key, o)] = fail
            entries[(plan.key, o)] = Entry(plan.key, plan.label, o, error=str(fail), result=res,
                                           diagnostics=tuple(getattr(res, "diagnostics", ())),
                                           flags=tuple(getattr(res, "flags", ())))
        seen = set()
        for key in rec.warnings:
            if key in seen:
                continue
            seen.add(key)
            caught.append({"design": plan.key, "outcome": o, "category": key[0], "message": key[1]})
        runtimes[(plan.key, o)] = rec.seconds
    if progress is not None:
        progress(total, total, "done")
    verdicts = {o: verdict_for(o, [entries[(p.key, o)] for p in plans], alpha=a) for o in outs}
    kwargs: dict[str, Any] = {"outcomes": outs, "designs": designs if isinstance(designs, str) else list(designs)}
    for name, value, default in (("treated", treated, None), ("alpha", a, 0.05), ("seed", int(seed), 0),
                                 ("fast", bool(fast), False), ("start", start, None), ("end", end, None),
                                 ("options", options or None, None), ("robustness", robustness, True)):
        if value != default:
            kwargs[name] = value
    if calendar is False:
        kwargs["calendar"] = False
    call = call or _call_string(intervention, kwargs)
    provenance = Provenance.build(
        panel, seed=int(seed), call=call, analysed_fingerprint=work.fingerprint, alpha=a, fast=bool(fast),
        replications=replications(bool(fast)),
        calendar="off" if calendar is False else (
            "not checked (ordinal time axis)" if panel.is_ordinal else
            "packaged default" if calendar is None else "user supplied"),
        runtime_seconds=round(time.perf_counter() - started, 2),
        environment={"numpy": np.__version__, "pandas": pd.__version__})
    ev = Evaluation(
        panel=cohort_panel, source_panel=panel, assignment=assignment, outcomes=tuple(outs), plans=tuple(plans),
        skipped=skipped, results=results, extras=extras, entries=entries, scaled=scaled, totals=totals,
        specs=specs, verdicts=verdicts, alpha=a, seed=int(seed), fast=bool(fast),
        call=call, provenance=provenance, runtimes=runtimes,
        warnings=pd.DataFrame(caught, columns=["design", "outcome", "category", "message"]),
        window=(str(work.time_label(work.periods[0])), str(work.time_label(work.periods[-1]))),
    )
    if robustness is False:
        return ev
    from evalint.evaluate.robustness import with_robustness

    ev._cache.update(context=ctx, its_options=_its_options(ctx))
    return with_robustness(ev, robustness, jobs=n_jobs)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every design's answer to one evaluation question, triangulated.

    Attributes
    ----------
    results : dict
        ``(design, outcome)`` -> :class:`~evalint.results.EffectResult`, or a
        :class:`DesignFailure` with the error message when the design failed.
    skipped : dict
        Design family -> why it was not run.
    verdicts : dict
        Outcome -> :class:`~evalint.evaluate.triangulate.Verdict`.
    scaled : dict
        ``(design, outcome)`` -> :class:`~evalint.evaluate.scale.ScaledEffect` (common scale).
    plans : tuple of DesignPlan
        The designs run, each with the reason it was chosen.
    assignment : Assignment
        Treated units and their first treated periods.
    call : str
        The call that re-runs this evaluation.
    provenance : Provenance
        evalint version, data fingerprint, seed, replications, time stamp
        (:class:`~evalint.results.Provenance`, the type results carry).
    """

    panel: Any
    source_panel: Any
    assignment: Assignment
    outcomes: tuple[str, ...]
    plans: tuple[DesignPlan, ...]
    skipped: dict[str, str]
    results: dict[tuple[str, str], Any]
    extras: dict[tuple[str, str], dict[str, Any]]
    entries: dict[tuple[str, str], Entry]
    scaled: dict[tuple[str, str], ScaledEffect]
    totals: dict[str, CellTotals]
    specs: dict[str, ScaleSpec]
    verdicts: dict[str, Verdict]
    alpha: float
    seed: int
    fast: bool
    call: str
    provenance: Provenance
    runtimes: dict[tuple[str, str], float]
    warnings: pd.DataFrame
    window: tuple[str, str]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def robustness(self, outcome: str | None = None) -> pd.DataFrame:
        """The "How robust is this?" table: one row per re-estimate or check (see methods/evaluate.md).

        Columns :data:`evalint.evaluate.robustness.ROBUSTNESS_COLUMNS`; ``against`` marks the rows
        that made a verdict ``"fragile"``. Computed by ``evaluate()`` (``robustness=True``) or here.
        """
        if "robustness" not in self._cache:
            from evalint.evaluate.robustness import RobustnessSettings, robustness_table

            self._refit_context()
            self._cache["robustness"] = robustness_table(
                self, RobustnessSettings.make(True, fast=self.fast, seed=self.seed, alpha=self.alpha))
        t = self._cache["robustness"]
        return (t if outcome is None else t.loc[t["outcome"] == outcome]).reset_index(drop=True).copy()

    def figures(self, jobs: int | None = None) -> list[Any]:
        """The report's figures (:class:`~evalint.report.content.FigureImage`), drawn once and cached.

        ``jobs``: processes drawing them (default :func:`evalint.report.figures.figure_jobs`);
        the same PNG bytes whatever ``jobs``."""
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1):
            raise SpecificationError(f"jobs must be a positive integer (processes); got {jobs!r}.")
        if "figures" not in self._cache:
            self._cache["figures"] = renderer("figures")(self, **({} if jobs is None else {"jobs": jobs}))
        return self._cache["figures"]

    def ranked_threats(self, outcome: str | None = None, limit: int = 5) -> pd.DataFrame:
        """The short list of policy-calendar threats (at most ``limit``) across designs.

        Combines each result's calendar check (``CheckResult.ranked_threats()``) for
        ``outcome`` (default: every outcome); each event keeps its highest score. Columns
        ``rank, event_id, name, score, reason, source, ...``; see methods/policy_churn.md.
        """
        from evalint.calendar.ranking import combine_threats

        outs = self.outcomes if outcome is None else (outcome,)
        checks = [d for (_, o), e in self.entries.items() if o in outs for d in e.diagnostics
                  if getattr(d, "name", "") == "policy_calendar"]
        return combine_threats(checks, limit=limit)

    def churn_sensitivity(self, outcome: str, design: str = "did", calendar: Any = None) -> Any:
        """Churn-sensitivity re-estimates of one design on one outcome (cached).

        For each top threat of that result's calendar check: donut, event regressor, drop
        the most differently exposed comparison units (DiD, synthetic control); donut and the
        event as a second interruption (ITS); and the preset's alternative date. The DiD is
        refitted as Callaway-Sant'Anna with analytic inference (the same point estimate as the
        main fit) on the scale the design compares (log rates for counts). ``calendar``: default
        the one ``evaluate()`` used. Returns
        :class:`evalint.evaluate.churn_sensitivity.ChurnSensitivity`; see
        :mod:`evalint.evaluate.churn_designs`.
        """
        key = f"churn:{design}:{outcome}"
        if key not in self._cache or calendar is not None:
            from evalint.evaluate.churn_designs import design_churn

            self._refit_context()
            out = design_churn(self, design, outcome, calendar=calendar)
            if calendar is not None:
                return out
            self._cache[key] = out
        return self._cache[key]

    def _refit_context(self) -> None:
        """The run settings robustness refits read (evaluate() stores its own; else the defaults)."""
        if "context" not in self._cache:
            self._cache["context"] = _Context(panel=self.panel, assignment=self.assignment, alpha=self.alpha,
                                              seed=self.seed, fast=self.fast, calendar=None, options={})
        self._cache.setdefault("its_options", _its_options(self._cache["context"]))

    @property
    def designs(self) -> list[str]:
        """Keys of the designs run (``its``, ``its_units``, ``did``, ``scm``, ``sdid``)."""
        return [p.key for p in self.plans]

    @property
    def failures(self) -> dict[tuple[str, str], DesignFailure]:
        return {k: v for k, v in self.results.items() if isinstance(v, DesignFailure)}

    def result(self, design: str, outcome: str) -> Any:
        """The EffectResult (or DesignFailure) of one design on one outcome."""
        key = (design, outcome)
        if key not in self.results:
            raise SpecificationError(
                f"no result for design {design!r} on outcome {outcome!r}; designs run: {', '.join(self.designs)}; "
                f"outcomes: {', '.join(self.outcomes)}; skipped: {', '.join(self.skipped) or 'none'}."
            )
        return self.results[key]

    def table(self, wide: bool = False) -> pd.DataFrame:
        """The triangulation table.

        ``wide=False`` (default): one row per design x outcome with the absolute effect,
        percent and cumulative effect and their intervals on the common scale, the
        inference, the key diagnostic, failures. ``wide=True``: designs x outcomes, each
        cell "absolute [CI]; percent".
        """
        long = table_rows([self.entries[(p.key, o)] for o in self.outcomes for p in self.plans])
        long["abs_label"] = long["outcome"].map(lambda o: self.specs[o].absolute_label)
        long["cum_label"] = long["outcome"].map(lambda o: self.specs[o].cumulative_label or "not defined")
        if not wide:
            return long

        def cell(r: pd.Series) -> str:
            if r["status"] != "ok":
                return "failed: " + str(r["error"])[:80] if r["status"] == "failed" else "no estimate"
            return (f"{r['absolute']:,.3g} [{r['abs_low']:,.3g}, {r['abs_high']:,.3g}]; "
                    f"{r['percent']:+.1f}% [{r['pct_low']:+.1f}, {r['pct_high']:+.1f}]")

        long["cell"] = long.apply(cell, axis=1)
        wide_t = long.pivot(index="label", columns="outcome", values="cell")
        return wide_t.reindex(index=[p.label for p in self.plans], columns=list(self.outcomes))

    def flags_frame(self) -> pd.DataFrame:
        """Every flag of every design and outcome (design, outcome + the flag columns), most severe first."""
        frames = []
        for (d, o), e in self.entries.items():
            f = flags_frame(e.flags)
            if len(f):
                frames.append(f.assign(design=d, outcome=o))
        for (d, o), fail in self.failures.items():
            frames.append(pd.DataFrame([{"kind": "design_failed", "severity": "high", "message": str(fail),
                                         "source": d, "event_id": None, "start": None, "end": None,
                                         "design": d, "outcome": o}]))
        quality = getattr(self.source_panel, "quality", ())
        if quality:  # data-quality flags the reader recorded (copied months, zero-filled days, ...)
            frames.append(pd.DataFrame(list(quality)).assign(design="data", outcome=None))
        cols = ["design", "outcome", "kind", "severity", "message", "source", "event_id", "start", "end"]
        if not frames:
            return pd.DataFrame(columns=cols)
        out = pd.concat(frames, ignore_index=True)[cols]
        order = {"high": 0, "medium": 1, "low": 2, "info": 3}
        return out.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)

    def diagnostics_frame(self) -> pd.DataFrame:
        """Every diagnostic of every design and outcome."""
        rows = []
        for (d, o), e in self.entries.items():
            for c in e.diagnostics:
                rows.append({"design": d, "outcome": o, "name": c.name, "passed": c.passed,
                             "statistic": c.statistic, "p_value": c.p_value, "text": c.text})
        return pd.DataFrame(rows, columns=["design", "outcome", "name", "passed", "statistic", "p_value", "text"])

    def data_summary(self) -> dict[str, Any]:
        """Units, periods, missing cells, treated and comparison units of the analysed panel."""
        info = self.panel.describe()
        a = self.assignment
        info.update({
            "window": f"{self.window[0]}..{self.window[1]}",
            "treated_units": len(a.treated_units),
            "never_treated_units": len(a.never_treated),
            "adoption_dates": [str(c) for c in a.cohorts],
        })
        return info

    def summary(self) -> str:
        """Plain-text summary: question, designs, the triangulation table, verdicts."""
        return renderer("text")(self)

    def report(self, path: str | Path) -> Path:
        """Write the report: ``.html`` (self-contained) or ``.md`` (figures beside it).

        The writers are the report layer's (:mod:`evalint.report`, registered in
        :mod:`evalint.evaluate.renderers` when ``evalint`` is imported).

        The report is written into a temporary folder beside ``path`` and moved into place
        when complete: a failure leaves an earlier report (and its figures) whole. A Markdown
        report's ``<stem>_figures/`` folder is replaced as a whole.

        Raises
        ------
        SpecificationError
            ``path`` does not end in .html or .md, or is not a str or path.
        OutputError
            ``path`` is a folder, its parent is a file, or the folder is not writable.

        A leading ``~`` is the home folder, as in :func:`os.path.expanduser`.
        """
        import os
        import shutil
        import tempfile

        from evalint._output import check_writable_parent, replace_file_set

        if not isinstance(path, (str, os.PathLike)):
            raise SpecificationError(
                f"report path must be a file name (a str or pathlib.Path) such as 'report.html' or "
                f"'report.md'; got {type(path).__name__} {path!r}.")
        try:
            p = Path(path).expanduser()  # "~/reports/r.html" is in the home folder, not a folder named "~"
        except (TypeError, RuntimeError) as exc:
            raise SpecificationError(f"report path {path!r} cannot be used ({exc}); give a file name "
                                     "such as 'report.html'.") from None
        if p.is_dir():
            raise OutputError(f"report path {str(p)!r} is a folder; give a file name such as "
                              f"{str(p / ('report' + (p.suffix or '.html')))!r}.")
        write = writer(p.suffix)
        if write is None:
            known = " or ".join(writer_suffixes()) or "a registered suffix (import evalint.report)"
            raise SpecificationError(
                f"report path {str(p)!r} must end in {known} (got {p.suffix or 'no suffix'!r}).")
        parent = check_writable_parent(p, "report path")
        tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.partial-", dir=parent))
        try:
            write(self, tmp / p.name)
            replace_file_set(tmp, parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return p

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        ok = sum(1 for e in self.entries.values() if e.ok)
        return (f"Evaluation({self.assignment.name}: {len(self.plans)} design(s) x {len(self.outcomes)} outcome(s), "
                f"{ok} estimate(s), {len(self.failures)} failure(s), skipped {sorted(self.skipped)})")
