"""Placebo inference and robustness for synthetic control.

* **In-space placebos** (Abadie, Diamond & Hainmueller 2010, Section 4): each donor in turn
  is treated as if treated at the same date and fitted against the other donors (the
  treated units are never donors); the treated unit's post/pre RMSPE ratio is ranked
  among all of them; the p-value is ``rank / (J + 1)`` (Abadie 2021, eq. 12). The
  placebo standard error is the standard deviation of the donors' placebo effects
  (Arkhangelsky et al. 2021, Algorithm 4 idea).
* With several treated units the test statistic is their mean post-MSPE over their mean
  pre-MSPE and its null distribution is drawn (``reps`` times, seeded) by giving each treated unit a
  distinct random donor's placebo ratio (Cavallo et al. 2013 style).
* **In-time placebo**: move the intervention to an earlier date and use only data before
  the real one; a large "effect" there signals a poor design.
* **Leave-one-out**: refit dropping each donor with positive weight.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). *JASA* 105(490), 493-505.
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
control method. *AJPS* 59(2), 495-510 (in-time placebos, leave-one-out).
Abadie, A. (2021). Using synthetic controls. *JEL* 59(2), 391-425.
Cavallo, E., Galiani, S., Noy, I. & Pantano, J. (2013). Catastrophic natural disasters and
economic growth. *REStat* 95(5), 1549-1561.
Firpo, S. & Possebom, V. (2018). Synthetic control method: inference, sensitivity analysis and
confidence sets. *Journal of Causal Inference* 6(2).

The confidence interval inverts the same rank test that gives the p-value (constant-effect
null; :func:`inverted_rank_interval`), so the interval excludes zero exactly when the p-value is
at most alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import InferenceError, SpecificationError
from evalint.estimators.synth.state import SCMState
from evalint.estimators.template import CalendarOutcome, CalendarQuery, FitCore
from evalint.inference.dispatch import infer
from evalint.inference.placebo_rank import rank_p_value
from evalint.inference.specs import Placebo
from evalint.results.effect import InferenceInfo, make_result, tidy

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.estimators.synth.matrices import SynthDesign
    from evalint.estimators.synth.scm.weights import SCMProblem, UnitFit
    from evalint.results.effect import EffectResult

__all__ = [
    "assemble_scm_result",
    "scm_headline",
    "hull_diagnostic",
    "v_diagnostic",
    "in_space_placebos",
    "in_time_placebo",
    "leave_one_out",
    "prefit_diagnostics",
    "PlaceboSet",
]


@dataclass(frozen=True)
class PlaceboSet:
    """The treated units and their donors' placebo fits, as
    :class:`~evalint.inference.placebo_rank.PlaceboRefit` (the rank test, the joint test and
    the inverted interval are worked out by :mod:`evalint.inference.placebo_rank`)."""

    treated_ratio: list[float]
    treated_pre_mspe: list[float]
    treated_post_mspe: list[float]
    treated_post_gaps: list[np.ndarray]
    placebo_ratio: list[np.ndarray]
    placebo_pre_mspe: list[np.ndarray]
    placebo_post_mspe: list[np.ndarray]
    placebo_att: list[np.ndarray]
    n_donors: int


def in_space_placebos(prob: SCMProblem, design: SynthDesign, fit: UnitFit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit every donor as a placebo treated unit at ``fit.start``.

    Returns
    -------
    gaps : DataFrame
        Columns ``unit, time, gap, treated_unit, placebo`` (the treated unit's own gaps
        included with ``placebo=False``).
    summary : DataFrame
        One row per unit: ``unit, placebo, pre_mspe, post_mspe, ratio, att``.
    """
    if len(design.donors) < 3:
        raise InferenceError(
            f"in-space placebos need at least 3 donors (each placebo fit needs 2); there are "
            f"{len(design.donors)}. Add donors or report the estimate without placebo inference."
        )
    rows = [(fit.unit, False, fit)]
    for j in design.donors:
        others = [d for d in design.donors if d != j]
        rows.append((j, True, prob.fit_unit(j, others, design.Y, design.periods, fit.start)))
    times = [str(p) for p in design.periods]
    summ = []
    for u, is_placebo, f in rows:
        pre, post = f.pre_mspe, f.post_mspe
        ratio = post / pre if pre > 0 else np.inf
        summ.append({"unit": u, "placebo": is_placebo, "pre_mspe": pre, "post_mspe": post,
                     "ratio": ratio, "att": f.att})
    # one frame, unit-major (as the per-unit frames stacked): no frame per placebo
    n_t = len(times)
    gaps = pd.DataFrame({"unit": [u for u, _, _ in rows for _ in range(n_t)], "time": times * len(rows),
                         "gap": np.concatenate([f.gaps for _, _, f in rows]),
                         "treated_unit": [fit.unit] * (n_t * len(rows)),
                         "placebo": np.repeat(np.array([p for _, p, _ in rows], dtype=bool), n_t)})
    return gaps, pd.DataFrame(summ)


def leave_one_out(prob: SCMProblem, design: SynthDesign, fit: UnitFit, threshold: float = 1e-6) -> pd.DataFrame:
    """Refit ``fit.unit`` dropping, in turn, each donor with weight above ``threshold``.

    Returns a frame ``treated_unit, dropped_donor, weight, att, pre_rmspe``.
    """
    out = []
    for j, wj in zip(fit.donors, fit.weights):
        if wj <= threshold:
            continue
        others = [d for d in fit.donors if d != j]
        if len(others) < 1:
            continue
        f = prob.fit_unit(fit.unit, others, design.Y, design.periods, fit.start)
        out.append({"treated_unit": fit.unit, "dropped_donor": j, "weight": float(wj), "att": f.att,
                    "pre_rmspe": float(np.sqrt(f.pre_mspe))})
    return pd.DataFrame(out, columns=["treated_unit", "dropped_donor", "weight", "att", "pre_rmspe"])


def in_time_placebo(estimator: Any, panel: Panel, placebo_start: Any, *, treated: Any, actual_start: Any,
                    **fit_kwargs: Any) -> EffectResult:
    """Refit with the intervention moved to ``placebo_start``, using data before ``actual_start`` only.

    The "effect" it returns should be near zero when the design is sound.
    """
    p_fake = panel.period(placebo_start, "placebo_start")
    p_real = panel.period(actual_start, "actual_start")
    if p_fake >= p_real:
        raise SpecificationError(
            f"placebo_start ({p_fake}) must be before the actual intervention ({p_real})."
        )
    sub = panel.subset(end=p_real - 1)  # no unit is treated before the real start
    fit_kwargs.setdefault("calendar", False)
    return estimator.fit(_strip_treatment(sub), treated=treated, intervention=p_fake, **fit_kwargs)


def _strip_treatment(panel: Panel) -> Panel:
    from evalint.data.panel import Panel as _P

    return _P(data=panel.data, unit=panel.unit, time=panel.time, outcomes=panel.outcomes,
              outcome_kinds=panel.outcome_kinds, treatment=None, population=panel.population,
              weights=panel.weights, covariates=panel.covariates, freq=panel.freq, timing=None,
              dropped=dict(panel.dropped))


def prefit_diagnostics(fit: UnitFit, design: SynthDesign, tolerance: float) -> tuple[CheckResult, list[Flag]]:
    """Pre-treatment fit: RMSPE, convex-hull coverage, identical donors."""
    pre = fit.pre_mask
    y1 = fit.treated[pre]
    Y0 = design.Y.loc[list(fit.donors)].to_numpy(dtype=float).T[pre]
    rmspe = float(np.sqrt(fit.pre_mspe))
    level = float(np.mean(np.abs(y1))) or 1.0
    outside = float(np.mean((y1 > Y0.max(axis=1)) | (y1 < Y0.min(axis=1))))
    flags: list[Flag] = []
    rel = rmspe / level
    passed = rel <= tolerance and outside <= 0.5
    if outside > 0.5:
        flags.append(Flag("diagnostic", "high",
                          f"{fit.unit!r} lies outside the donors' range in {outside:.0%} of pre-periods "
                          f"(outside their convex hull): no weighted average can match it; pre-period "
                          f"RMSPE {rmspe:.4g}. Consider augmented SCM or SDID.", source="scm_prefit"))
    elif rel > tolerance:
        flags.append(Flag("diagnostic", "medium",
                          f"poor pre-treatment fit for {fit.unit!r}: RMSPE {rmspe:.4g} is {rel:.1%} of "
                          f"its mean level (threshold {tolerance:.0%}).", source="scm_prefit"))
    same = [d for j, d in enumerate(fit.donors) if np.allclose(Y0[:, j], y1, rtol=1e-10, atol=1e-12)]
    if same:
        flags.append(Flag("data", "medium",
                          f"donor(s) {same} are identical to treated unit {fit.unit!r} over the pre-period; "
                          "the synthetic control copies them. Check for a duplicated unit.",
                          source="scm_identical_donor"))
    n_pre = int(pre.sum())
    if n_pre < 5:
        flags.append(Flag("diagnostic", "medium",
                          f"only {n_pre} pre-treatment periods for {fit.unit!r}; weights fitted on so few "
                          "periods can overfit noise (Abadie 2021 recommends a long pre-period).",
                          source="scm_prefit"))
    text = (f"{fit.unit!r}: pre-period RMSPE {rmspe:.4g} ({rel:.1%} of mean level); outside donors' "
            f"range in {outside:.0%} of {n_pre} pre-periods")
    return CheckResult("scm_prefit", passed, text, statistic=rmspe, flags=tuple(flags)), flags


#: treated pre-period RMSPE above this quantile of the placebos' is flagged (outside the convex hull)
HULL_QUANTILE = 0.9
#: V share on one predictor above which the V search is flagged
V_CONCENTRATION = 0.9


def hull_diagnostic(summary: pd.DataFrame) -> tuple[list[CheckResult], list[Flag]]:
    """Flag treated units whose pre-period fit is worse than most placebos' (outside the donors' hull).

    A treated unit that no weighted average of donors can track has a pre-period RMSPE large
    against the placebo fits; its post/pre ratio is then deflated and the rank test loses its
    meaning (Abadie et al. 2010 discard placebos with pre-MSPE above 5 times the treated one's
    for the mirror reason). Rule: flagged when its pre-RMSPE exceeds the 90% quantile of the
    placebos' pre-RMSPEs.
    """
    checks: list[CheckResult] = []
    flags: list[Flag] = []
    for tu, s in summary.groupby("treated_unit", sort=False):
        pl = np.sqrt(s.loc[s["placebo"], "pre_mspe"].to_numpy(float))
        own = float(np.sqrt(s.loc[~s["placebo"], "pre_mspe"].iloc[0]))
        if pl.size == 0:
            continue
        q = float(np.quantile(pl, HULL_QUANTILE))
        share = float(np.mean(pl < own))
        ok = own <= q
        text = (f"{tu!r}: pre-period RMSPE {own:.4g} is larger than that of {share:.0%} of the {pl.size} placebo "
                f"fits (their {HULL_QUANTILE:.0%} quantile {q:.4g})")
        fl: tuple[Flag, ...] = ()
        if not ok:
            fl = (Flag("diagnostic", "high", text + ": the treated unit lies outside the donors' convex hull, so "
                       "the synthetic control does not track it and the placebo p-value and interval are not "
                       "reliable. Consider augmented SCM, synthetic DiD, or a different donor pool.",
                       source="scm_convex_hull"),)
        checks.append(CheckResult("scm_convex_hull", ok, text, statistic=own, flags=fl))
        flags.extend(fl)
    return checks, flags


def v_diagnostic(fit: UnitFit) -> tuple[CheckResult | None, list[Flag]]:
    """Report the V search (loss from each start) and flag V concentrated on one predictor."""
    if fit.v is None or len(fit.v) < 2:
        return None, []
    top = int(np.argmax(fit.v))
    share = float(fit.v[top])
    name = fit.predictor_names[top] if fit.predictor_names else str(top)
    starts = getattr(fit, "v_search", None) or {}
    loss_txt = ", ".join(f"{k} {val:.5g}" for k, val in starts.items())
    text = (f"{fit.unit!r}: V search pre-period loss {fit.loss:.5g}" + (f" (by start: {loss_txt})" if loss_txt else "")
            + f"; largest V weight {share:.1%} on {name!r}")
    fl: list[Flag] = []
    ok = share <= V_CONCENTRATION
    if not ok:
        fl.append(Flag("diagnostic", "medium",
                       text + f": V is concentrated (> {V_CONCENTRATION:.0%}) on one predictor, "
                       "so the other predictors barely shape the weights. Check that predictor's scale and "
                       "relevance, or use v_method='regression' or outcome-only SC as a sensitivity check.",
                       source="scm_v_concentrated"))
    return CheckResult("scm_v_search", ok, text, statistic=share, flags=tuple(fl)), fl



def synth_calendar_query(design: Any) -> tuple[dict[Any, str], Any, CalendarQuery]:
    """Each treated unit's start (as text), the intervention to report (one date when they share
    it, else the mapping) and where the policy-calendar check of a synthetic control looks."""
    start_map = {u: str(p) for u, p in design.start.items()}
    inter = next(iter(start_map.values())) if len(set(start_map.values())) == 1 else start_map
    query = CalendarQuery(inter, outcome=design.outcome, treated_units=list(design.treated),
                          comparison_units=list(design.donors), design="synth")
    return start_map, inter, query

def _ratio(f: UnitFit) -> float:
    pre, post = f.pre_mspe, f.post_mspe
    return post / pre if pre > 0 else np.inf


def scm_headline(prob: SCMProblem, design: SynthDesign, fits: list[UnitFit], *, inference: Any, alpha: float,
                 placebo_reps: int) -> tuple[float, float, tuple[float, float], float]:
    """``(estimate, se, ci, p_value)`` of :func:`assemble_scm_result`'s result, computed as it does
    (the same in-space placebo fits handed to the same inference), without its tables,
    diagnostics, calendar check or provenance: for refits that read only these numbers. NaN
    se, interval and p-value when the placebo inference is not available (as there)."""
    spec = inference if inference is not None else Placebo(seed=None)
    if getattr(spec, "reps", None) is not None:
        placebo_reps = int(spec.reps)
    estimate = float(np.array([f.att for f in fits]).mean())
    nan = float("nan")
    try:
        cache: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        ratios_t: list[float] = []
        plac: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for f in fits:
            if f.start not in cache:
                if len(design.donors) < 3:
                    raise InferenceError("in-space placebos need at least 3 donors")
                pf = [prob.fit_unit(j, [d for d in design.donors if d != j], design.Y, design.periods, f.start)
                      for j in design.donors]
                cache[f.start] = (np.array([_ratio(q) for q in pf], dtype=float),
                                  np.array([q.pre_mspe for q in pf], dtype=float),
                                  np.array([q.post_mspe for q in pf], dtype=float),
                                  np.array([q.att for q in pf], dtype=float))
            ratios_t.append(float(_ratio(f)))
            plac.append(cache[f.start])
        res = infer(spec, PlaceboSet(ratios_t, [f.pre_mspe for f in fits], [f.post_mspe for f in fits],
                                     [f.gaps[~f.pre_mask] for f in fits], [c[0] for c in plac], [c[1] for c in plac],
                                     [c[2] for c in plac], [c[3] for c in plac], len(design.donors)),
                    alpha=alpha, default_reps=placebo_reps)
    except InferenceError:
        return estimate, nan, (nan, nan), nan
    return estimate, float(res.se), res.ci, float(res.p_value)


def assemble_scm_result(estimator: Any, prob: SCMProblem, design: SynthDesign, fits: list[UnitFit], *,
                        panel: Panel, inference: Any, calendar: Any, alpha: float, seed: int | None,
                        placebo_reps: int, method: str) -> FitCore:
    """Placebos, diagnostics and tables of an SCM fit; the fit template's calendar check, then the
    EffectResult (:class:`~evalint.estimators.template.FitCore`)."""
    # one seed: an explicit Placebo spec's own (as for SDID), otherwise the ``seed`` argument;
    # the description and provenance report the seed the draws used
    spec = inference if inference is not None else Placebo(seed=seed)  # resolved by the fit template
    seed = getattr(spec, "seed", None)  # a spec registered for PlaceboRefit may draw nothing
    if getattr(spec, "reps", None) is not None:  # draws of the joint test for several treated units
        placebo_reps = int(spec.reps)
    diagnostics: list[CheckResult] = []
    flags: list[Flag] = []
    times = [str(p) for p in design.periods]

    series, weights_rows, balance_rows, effects = [], [], [], []
    for f in fits:
        series.append(pd.DataFrame({"unit": f.unit, "time": times, "treated": f.treated,
                                    "synthetic": f.synthetic, "gap": f.gaps, "post": ~f.pre_mask}))
        for d, w in zip(f.donors, f.weights):
            weights_rows.append({"treated_unit": f.unit, "unit": d, "weight": float(w)})
        if f.X1 is not None:
            synth_x = f.X0 @ f.weights
            for k, name in enumerate(f.predictor_names):
                balance_rows.append({"treated_unit": f.unit, "predictor": name, "treated": f.X1[k],
                                     "synthetic": synth_x[k], "donor_mean": float(np.mean(f.X0[k])),
                                     "v_weight": float(f.v[k])})
        rel = np.arange(len(times)) - int(f.pre_mask.sum())
        for t, g, r, post in zip(times, f.gaps, rel, ~f.pre_mask):
            if post:
                effects.append({"term": "gap", "estimate": g, "group": str(f.unit), "time": t, "rel_time": r})
        check, fl = prefit_diagnostics(f, design, estimator.prefit_tolerance)
        diagnostics.append(check)
        flags.extend(fl)

    att_units = np.array([f.att for f in fits])
    estimate = float(att_units.mean())
    tables: dict[str, pd.DataFrame] = {"donor_weights": pd.DataFrame(weights_rows)}
    if balance_rows:
        tables["predictor_balance"] = pd.DataFrame(balance_rows)

    # ---- in-space placebos (cached per start date: same donors, same fits)
    se, p_value, note = np.nan, np.nan, ""
    ci = (np.nan, np.nan)
    p_draws: int | None = None  # placebo ratios behind the p-value (its resolution is 1/(p_draws + 1))
    try:
        cache: dict[Any, tuple[pd.DataFrame, pd.DataFrame]] = {}
        gaps_all, summ_all, ratios_t, plac_ratios, plac_att = [], [], [], [], []
        plac_pre: list[np.ndarray] = []
        plac_post: list[np.ndarray] = []
        for f in fits:
            if f.start not in cache:
                cache[f.start] = in_space_placebos(prob, design, f)
            g, s = cache[f.start]
            # the treated row of a cached placebo set belongs to the first unit fitted at this start
            own = s.loc[~s["placebo"]].iloc[0]
            if own["unit"] != f.unit:
                pre, post = f.pre_mspe, f.post_mspe
                s = pd.concat([pd.DataFrame([{"unit": f.unit, "placebo": False, "pre_mspe": pre,
                                              "post_mspe": post, "ratio": post / pre if pre > 0 else np.inf,
                                              "att": f.att}]), s.loc[s["placebo"]]], ignore_index=True)
                g = pd.concat([pd.DataFrame({"unit": f.unit, "time": times, "gap": f.gaps,
                                             "treated_unit": f.unit, "placebo": False}),
                               g.loc[g["placebo"]].assign(treated_unit=f.unit)], ignore_index=True)
            pl = s.loc[s["placebo"]]
            treated_ratio = float(s.loc[~s["placebo"], "ratio"].iloc[0])
            p_u, _rank_u = rank_p_value(treated_ratio, pl["ratio"].to_numpy())
            s = s.assign(treated_unit=f.unit, rank=s["ratio"].rank(ascending=False, method="max").astype(int),
                         p_value=np.where(s["placebo"], np.nan, p_u))
            gaps_all.append(g)
            summ_all.append(s)
            ratios_t.append(treated_ratio)
            plac_ratios.append(pl["ratio"].to_numpy())
            plac_pre.append(pl["pre_mspe"].to_numpy(dtype=float))
            plac_post.append(pl["post_mspe"].to_numpy(dtype=float))
            plac_att.append(pl["att"].to_numpy())
        tables["placebo_gaps"] = pd.concat(gaps_all, ignore_index=True)
        tables["placebo_summary"] = pd.concat(summ_all, ignore_index=True)
        # the inference layer: rank p-value, joint test with the spec's one seed, inverted interval
        res = infer(spec, PlaceboSet(ratios_t, [f.pre_mspe for f in fits], [f.post_mspe for f in fits],
                                     [f.gaps[~f.pre_mask] for f in fits], plac_ratios, plac_pre, plac_post,
                                     plac_att, len(design.donors)),
                    alpha=alpha, default_reps=placebo_reps)
        se, p_value, ci, note, p_draws = res.se, res.p_value, res.ci, res.note, res.draws
        flags.extend(res.flags)
    except InferenceError as exc:
        flags.append(Flag("inference", "high", f"placebo inference not available: {exc}", source="scm_placebo"))
        note = f"no placebo inference: {exc}"

    if "placebo_summary" in tables:
        h_check, h_flags = hull_diagnostic(tables["placebo_summary"])
        diagnostics.extend(h_check)
        flags.extend(h_flags)
    for f in fits:
        v_check, v_flags = v_diagnostic(f)
        if v_check is not None:
            diagnostics.append(v_check)
            flags.extend(v_flags)

    if estimator.leave_one_out:
        tables["leave_one_out"] = pd.concat([leave_one_out(prob, design, f) for f in fits], ignore_index=True)

    start_map, inter, query = synth_calendar_query(design)

    def finish(cal: CalendarOutcome) -> EffectResult:
        cal_check, cal_flags = cal.check, cal.flags
        if cal_check is not None:
            diagnostics.append(cal_check)
        flags.extend(cal_flags)

        n_donors = len(design.donors)
        info_obj = InferenceInfo(name="placebo", description=spec.description, reps=n_donors, seed=seed, note=note,
                                 draws=p_draws)
        effects_frame = tidy(pd.DataFrame(effects)) if effects else tidy(None)
        return make_result(
            method=method, estimand="ATT: average post-treatment gap, treated minus synthetic control",
            term="att", outcome=design.outcome, estimate=estimate, se=se, alpha=alpha, inference=info_obj,
            panel=panel, seed=seed, spec={"estimator": repr(estimator), "treated": list(map(str, design.treated)),
                                          "donors": list(map(str, design.donors)), "start": start_map},
            ci=ci, p_value=p_value, effects=effects_frame, series=pd.concat(series, ignore_index=True),
            tables=tables, diagnostics=tuple(diagnostics), flags=tuple(flags), plot_kind="synth",
            intervention=inter, n_obs=int(design.Y.size),
            info={"pre_mspe": {str(f.unit): f.pre_mspe for f in fits},
                  "pre_rmspe": {str(f.unit): float(np.sqrt(f.pre_mspe)) for f in fits},
                  "post_mspe": {str(f.unit): f.post_mspe for f in fits},
                  "att_by_unit": {str(f.unit): f.att for f in fits}, "n_donors": n_donors},
            references=(
                ("Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative "
                "case studies. JASA 105(490), 493-505."),
                "Abadie, A. (2021). Using synthetic controls. JEL 59(2), 391-425.",
            ),
            state=SCMState(
                weights={str(f.unit): pd.Series(f.weights, index=list(f.donors), name="weight") for f in fits},
                v={str(f.unit): None if f.v is None else pd.Series(f.v, index=list(f.predictor_names), name="v")
                   for f in fits},
                pre_mspe={str(f.unit): f.pre_mspe for f in fits}),
        )
    return FitCore(query, finish)
