"""Placebo inference and robustness for synthetic control.

* **In-space placebos** (Abadie, Diamond & Hainmueller 2010, Section 4): each donor in turn
  is treated as if treated at the same date and fitted against the other donors (the
  treated units are never donors); the treated unit's post/pre RMSPE ratio is ranked
  among all of them; the p-value is ``rank / (J + 1)`` (Abadie 2021, eq. 12). The
  placebo standard error is the standard deviation of the donors' placebo effects
  (Arkhangelsky et al. 2021, Algorithm 4 idea).
* With several treated units the test statistic is the mean of their RMSPE ratios and
  its null distribution is drawn (``reps`` times, seeded) by giving each treated unit a
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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import InferenceError, SpecificationError
from evalint.estimators.base import calendar_check
from evalint.inference.specs import Placebo, require_supported
from evalint.results.effect import InferenceInfo, make_result, tidy

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.estimators.synth.matrices import SynthDesign
    from evalint.estimators.synth.scm import SCMProblem, UnitFit
    from evalint.results.effect import EffectResult

__all__ = [
    "assemble_scm_result",
    "in_space_placebos",
    "in_time_placebo",
    "leave_one_out",
    "prefit_diagnostics",
    "rank_p_value",
]


def rank_p_value(treated_ratio: float, placebo_ratios: Sequence[float]) -> tuple[float, int]:
    """Rank p-value of the treated post/pre MSPE ratio among all units.

    Returns ``(p, rank)`` with rank 1 = largest ratio; ties count against the treated
    unit (conservative). ``p = rank / (1 + number of placebos)``.
    """
    r = np.asarray(placebo_ratios, dtype=float)
    if r.size == 0:
        raise InferenceError("rank p-value needs at least one placebo unit; there are none.")
    rank = 1 + int(np.sum(r >= treated_ratio))
    return rank / (r.size + 1), rank


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
    gap_frames, summ = [], []
    for u, is_placebo, f in rows:
        gap_frames.append(pd.DataFrame({"unit": u, "time": times, "gap": f.gaps,
                                        "treated_unit": fit.unit, "placebo": is_placebo}))
        pre, post = f.pre_mspe, f.post_mspe
        ratio = post / pre if pre > 0 else np.inf
        summ.append({"unit": u, "placebo": is_placebo, "pre_mspe": pre, "post_mspe": post,
                     "ratio": ratio, "att": f.att})
    return pd.concat(gap_frames, ignore_index=True), pd.DataFrame(summ)


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


def assemble_scm_result(estimator: Any, prob: SCMProblem, design: SynthDesign, fits: list[UnitFit], *,
                        panel: Panel, inference: Any, calendar: Any, alpha: float, seed: int | None,
                        placebo_reps: int, method: str) -> EffectResult:
    """Placebos, diagnostics, tables and the EffectResult of an SCM fit."""
    # one seed: an explicit Placebo spec's own (as for SDID), otherwise the ``seed`` argument;
    # the description and provenance report the seed the draws used
    spec = inference if inference is not None else Placebo(seed=seed)
    require_supported(type(estimator).__name__, spec, (Placebo,))
    seed = spec.seed
    if spec.reps is not None:  # draws of the joint test for several treated units
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
            plac_att.append(pl["att"].to_numpy())
        tables["placebo_gaps"] = pd.concat(gaps_all, ignore_index=True)
        tables["placebo_summary"] = pd.concat(summ_all, ignore_index=True)
        n_t = len(fits)
        if n_t == 1:
            p_value, rank = rank_p_value(ratios_t[0], plac_ratios[0])
            p_draws = len(plac_ratios[0])
            se = float(np.std(plac_att[0], ddof=1))
            note = (f"p-value: rank {rank} of {len(plac_ratios[0]) + 1} post/pre MSPE ratios (Abadie et al. "
                    "2010); SE: standard deviation of the donors' placebo effects; CI: estimate +/- z*SE.")
        else:
            if len(design.donors) < n_t:
                raise InferenceError(
                    f"the joint placebo test gives each of {n_t} treated units a distinct donor, but there "
                    f"are only {len(design.donors)} donors."
                )
            rng = np.random.default_rng(seed)
            stat = float(np.mean(ratios_t))
            draws = np.empty(placebo_reps)
            J = len(design.donors)
            for r in range(placebo_reps):
                pick = rng.permutation(J)[:n_t]
                draws[r] = np.mean([plac_ratios[i][pick[i]] for i in range(n_t)])
            p_value = float((1 + np.sum(draws >= stat)) / (1 + placebo_reps))
            p_draws = placebo_reps
            se = float(np.sqrt(np.sum([np.var(a, ddof=1) for a in plac_att])) / n_t)
            note = (f"p-value: mean post/pre MSPE ratio of {n_t} treated units against {placebo_reps} "
                    f"draws of distinct donors' placebo ratios (seed {seed}); SE from placebo effects "
                    "assuming independent units.")
        from scipy.stats import norm

        z = float(norm.ppf(1 - alpha / 2))
        ci = (estimate - z * se, estimate + z * se)
    except InferenceError as exc:
        flags.append(Flag("inference", "high", f"placebo inference not available: {exc}", source="scm_placebo"))
        note = f"no placebo inference: {exc}"

    if estimator.leave_one_out:
        tables["leave_one_out"] = pd.concat([leave_one_out(prob, design, f) for f in fits], ignore_index=True)

    start_map = {u: str(p) for u, p in design.start.items()}
    inter = next(iter(start_map.values())) if len(set(start_map.values())) == 1 else start_map
    cal_check, cal_flags = calendar_check(panel, inter, outcome=design.outcome, treated_units=list(design.treated),
                                          comparison_units=list(design.donors), calendar=calendar, design="synth")
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
    )
