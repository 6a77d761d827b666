"""Aggregations of Callaway-Sant'Anna ATT(g,t): simple, dynamic (event time), group, calendar.

Every aggregate is a weighted combination of ATT(g,t) cells, and its influence function
is the same combination of the cells' influence functions plus, where the weights are
estimated cohort shares, the influence of estimating those shares (``wif`` in R ``did``'s
``compute.aggte.R``). With :math:`p_g` the (weighted) share of units in cohort g and a
set :math:`K` of cells with normalised weights :math:`p_{g(k)}/\\sum_{j\\in K}p_{g(j)}`,
the weight term for unit i is

.. math::
    \\sum_{k\\in K}\\frac{w_i1\\{G_i=g_k\\}-p_{g_k}}{S}ATT_k
    - \\Big(\\sum_{k\\in K}(w_i1\\{G_i=g_k\\}-p_{g_k})\\Big)\\frac{\\sum_k p_{g_k}ATT_k}{S^2},
    \\qquad S=\\sum_{k\\in K}p_{g_k}.

* simple: post-treatment cells (g <= t <= g + max_e), cohort-share weights, + weight term;
* dynamic: for each event time e = t - g (min_e..max_e; with ``balance_e`` only cohorts
  observed for e = balance_e periods after treatment, and e in [balance_e - T + 1, balance_e]),
  cohort-share weights + weight term; overall = mean over e >= 0;
* group: per cohort the mean of its post-treatment cells; overall = cohort-share weighted
  mean of those, + weight term;
* calendar: per period t the cohort-share weighted mean of treated cells, + weight term;
  overall = mean over periods.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230 (Section 3, eqs. 3.3-3.10).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option
from evalint.diagnostics.base import CheckResult, Flag
from evalint.diagnostics.pretrend import pretrend_check, wald_check
from evalint.errors import EvalintError, SpecificationError
from evalint.inference.influence import InfluencePlan
from evalint.inference.multiplier import _DEGENERATE, _cluster_sums
from evalint.inference.normal import wald
from evalint.inference.specs import InferenceSpec
from evalint.results.effect import EffectResult, InferenceInfo, make_result, tidy
from evalint.results.state import FamilyState

if TYPE_CHECKING:  # pragma: no cover
    from evalint.estimators.did.cs.cells import GroupTimeCells

__all__ = ["AGGREGATIONS", "Aggregation", "CSState", "aggregate", "aggregate_cells", "aggregate_att", "build_result"]

AGGREGATIONS = ("simple", "dynamic", "group", "calendar")


@dataclass(frozen=True)
class Aggregation:
    """One aggregation: the overall estimate and the per-row estimates with influence functions.

    ``labels`` are event times (dynamic), cohort ordinals (group) or period ordinals
    (calendar); empty for simple.
    """

    kind: str
    overall: float
    overall_influence: np.ndarray
    labels: np.ndarray
    estimates: np.ndarray
    influence: np.ndarray
    min_e: float = -np.inf
    max_e: float = np.inf
    balance_e: int | None = None


def _cohort_shares(cells: GroupTimeCells) -> tuple[np.ndarray, np.ndarray]:
    """Cohort list and p_g = mean_i(w_i 1{G_i = g}) over all units."""
    glist = np.unique(cells.group)
    w = cells.unit_weights
    pg = np.array([np.mean(w * (cells.unit_cohort == g)) for g in glist])
    return glist, pg


def _unit_cohort_positions(cells: GroupTimeCells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cohort list, each unit's position in it and whether the unit is in a listed cohort."""
    glist = np.unique(cells.group)
    coh = cells.unit_cohort
    pos = np.clip(np.searchsorted(glist, np.nan_to_num(coh, nan=-1)), 0, len(glist) - 1)
    return glist, pos, ~np.isnan(coh) & (glist[pos] == coh)


def _weight_term(cells: GroupTimeCells, keep_groups: np.ndarray, keep_pg: np.ndarray,
                 keep_att: np.ndarray, where: tuple | None = None) -> np.ndarray:
    """n-vector: influence of estimating the cohort-share weights, times the ATTs (R ``wif %*% att``).

    ``where``: :func:`_unit_cohort_positions` of ``cells``, computed once for many calls.
    """
    w = cells.unit_weights
    glist, pos, hit = _unit_cohort_positions(cells) if where is None else where
    s = keep_pg.sum()
    # per unit: sum over kept cells of w_i 1{G_i = g_k} a_k  and  of w_i 1{G_i = g_k}
    ug, inv = np.unique(keep_groups, return_inverse=True)
    at = np.searchsorted(glist, ug)
    a_by_g = np.zeros(len(glist))
    c_by_g = np.zeros(len(glist))
    a_by_g[at] = np.bincount(inv, weights=keep_att, minlength=len(ug))
    c_by_g[at] = np.bincount(inv, minlength=len(ug))
    ind_a = np.where(hit, w * a_by_g[pos], 0.0)
    ind_c = np.where(hit, w * c_by_g[pos], 0.0)
    term1 = (ind_a - keep_pg @ keep_att) / s
    term2 = (ind_c - keep_pg.sum()) * (keep_pg @ keep_att) / s**2
    return term1 - term2


def _combine(cells: GroupTimeCells, sets: list[np.ndarray], pg_cell: np.ndarray,
             with_wif: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and influence functions (units x len(sets)) of cohort-share weighted means of cells.

    One product ``influence @ W`` for all sets (W: cells x sets of normalised weights); in the
    cohort form of the cells it costs units x periods x sets, not units x cells x sets.
    """
    wmat = np.zeros((len(cells.att), len(sets)))
    ests = np.empty(len(sets))
    for c, idx in enumerate(sets):
        p = pg_cell[idx]
        wts = p / p.sum()
        ests[c] = float(wts @ cells.att[idx])
        wmat[idx, c] = wts
    infl = cells.influence @ wmat
    if with_wif:
        _add_weight_terms(infl, cells, sets, pg_cell)
    return ests, infl


_ROW_BLOCK = 4096


def _add_weight_terms(infl: np.ndarray, cells: GroupTimeCells, sets: list[np.ndarray], pg_cell: np.ndarray) -> None:
    """``infl[:, c] += _weight_term(set c)`` for every set at once, in blocks of units.

    The same arithmetic as :func:`_weight_term` element by element (so the same numbers),
    with the per-cohort sums of all sets gathered together and the units processed in
    cache-sized blocks instead of one pass over all units per set.
    """
    w = cells.unit_weights
    glist, pos, hit = _unit_cohort_positions(cells)
    n_sets = len(sets)
    s = np.array([pg_cell[idx].sum() for idx in sets])
    pa = np.array([pg_cell[idx] @ cells.att[idx] for idx in sets])
    # per cohort and set: the sum of the set's ATTs (in cell order, as bincount adds) and its cells
    every = np.concatenate(sets)
    which = np.repeat(np.arange(n_sets), [len(idx) for idx in sets])
    at = np.searchsorted(glist, cells.group[every])
    a_by_g = np.zeros((len(glist), n_sets))
    c_by_g = np.zeros((len(glist), n_sets))
    np.add.at(a_by_g, (at, which), cells.att[every])
    np.add.at(c_by_g, (at, which), 1.0)
    s2 = s**2
    if np.all(w == 1.0):   # unweighted: one row of terms per cohort (+ one for other units), gathered
        ind_a = np.vstack([1.0 * a_by_g, np.zeros((1, n_sets))])
        ind_c = np.vstack([1.0 * c_by_g, np.zeros((1, n_sets))])
        rows = ((ind_a - pa) / s) - ((ind_c - s) * pa / s2)
        key = np.where(hit, pos, len(glist))
        for lo in range(0, len(w), _ROW_BLOCK):
            infl[lo:lo + _ROW_BLOCK] += rows[key[lo:lo + _ROW_BLOCK]]
        return
    for lo in range(0, len(w), _ROW_BLOCK):
        hi = min(lo + _ROW_BLOCK, len(w))
        wb, pb, hb = w[lo:hi, None], pos[lo:hi], hit[lo:hi, None]
        ind_a = np.where(hb, wb * a_by_g[pb], 0.0)
        ind_c = np.where(hb, wb * c_by_g[pb], 0.0)
        term1 = (ind_a - pa) / s
        term2 = (ind_c - s) * pa / s2
        infl[lo:hi] += term1 - term2


def aggregate_cells(cells: GroupTimeCells, kind: str = "simple", *, min_e: float = -np.inf,
                    max_e: float = np.inf, balance_e: int | None = None) -> Aggregation:
    """Aggregate ATT(g,t) cells (see the module docstring for the weights).

    Parameters
    ----------
    cells : GroupTimeCells
    kind : {"simple", "dynamic", "group", "calendar"}
    min_e, max_e : float
        Event-time window (dynamic); ``max_e`` also caps the cells used by simple and group.
    balance_e : int, optional
        Dynamic only: keep cohorts observed at least ``balance_e`` periods after treatment.
    """
    check_option("kind", kind, AGGREGATIONS)
    if balance_e is not None and kind != "dynamic":
        raise SpecificationError("balance_e applies to the dynamic (event-time) aggregation only.")
    if min_e > max_e:
        raise SpecificationError(f"min_e={min_e} is larger than max_e={max_e}.")
    g, t = cells.group, cells.time
    glist, pgg = _cohort_shares(cells)
    pg_cell = pgg[np.searchsorted(glist, g)]
    e_all = t - g
    empty = np.zeros((cells.n_units, 0))

    if kind == "simple":
        keep = np.flatnonzero((g <= t) & (e_all <= max_e))
        if not len(keep):
            raise SpecificationError("No post-treatment ATT(g,t) cells to aggregate (check max_e).")
        est, infl = _combine(cells, [keep], pg_cell, with_wif=True)
        return Aggregation("simple", float(est[0]), infl[:, 0], np.array([]), np.array([]), empty, max_e=max_e)

    if kind == "dynamic":
        include = np.ones(len(g), dtype=bool)
        eseq = np.unique(e_all)
        if balance_e is not None:
            tmax, tmin = int(t.max()), int(min(t.min(), cells.base.min()))
            include = (tmax - g) >= balance_e
            eseq = np.unique(e_all[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if not len(eseq):
            raise SpecificationError("No event times fall within min_e/max_e (and balance_e); widen the window.")
        est_e, inf_e = _combine(cells, [np.flatnonzero((e_all == e) & include) for e in eseq], pg_cell,
                                with_wif=True)
        pos = eseq >= 0
        if not pos.any():
            overall, oinf = np.nan, np.full(cells.n_units, np.nan)
        else:
            overall = float(est_e[pos].mean())
            oinf = inf_e[:, pos].mean(axis=1)
        return Aggregation("dynamic", overall, oinf, eseq.astype(np.int64), est_e, inf_e,
                           min_e=min_e, max_e=max_e, balance_e=balance_e)

    if kind == "group":
        sets = []
        for gg in glist:
            idx = np.flatnonzero((g == gg) & (t >= gg) & (t <= gg + max_e))
            if not len(idx):
                raise SpecificationError(f"cohort {cells.period(gg)} has no post-treatment cells within max_e.")
            sets.append(idx)
        est_g, inf_g = _combine(cells, sets, pg_cell, with_wif=False)
        overall = float(est_g @ pgg / pgg.sum())
        oinf = inf_g @ (pgg / pgg.sum()) + _weight_term(cells, glist, pgg, est_g)
        return Aggregation("group", overall, oinf, glist, est_g, inf_g, max_e=max_e)

    # calendar
    tlist = np.unique(t[t >= g.min()])
    tlist = np.array([tt for tt in tlist if np.any((t == tt) & (g <= t))], dtype=np.int64)
    est_t, inf_t = _combine(cells, [np.flatnonzero((t == tt) & (g <= t)) for tt in tlist], pg_cell,
                            with_wif=True)
    return Aggregation("calendar", float(est_t.mean()), inf_t.mean(axis=1), tlist, est_t, inf_t)


# --------------------------------------------------------------------------- results
def _rows_frame(cells: GroupTimeCells, agg: Aggregation, se: np.ndarray, crit: float | None,
                alpha: float, df: float | None) -> pd.DataFrame:
    if agg.kind == "simple":
        return tidy(None)
    stat, p, lo, hi = wald(agg.estimates, se, alpha, df)
    rows = pd.DataFrame({"estimate": agg.estimates, "std_error": se, "statistic": stat, "p_value": p,
                         "conf_low": lo, "conf_high": hi})
    if agg.kind == "dynamic":
        rows.insert(0, "term", [f"ATT(e={int(e)})" for e in agg.labels])
        rows["rel_time"] = agg.labels.astype(float)
    elif agg.kind == "group":
        lab = cells.labels(agg.labels)
        rows.insert(0, "term", [f"ATT(g={g})" for g in lab])
        rows["group"] = lab
    else:
        lab = cells.labels(agg.labels)
        rows.insert(0, "term", [f"ATT(t={t})" for t in lab])
        rows["time"] = lab
    if crit is not None and np.isfinite(crit):
        rows["band_low"] = agg.estimates - crit * se
        rows["band_high"] = agg.estimates + crit * se
    return tidy(rows)


def att_gt_table(state: Any, alpha: float, df: float | None) -> pd.DataFrame:
    """All ATT(g,t) in the tidy schema (plus base_period, n_treated, n_control)."""
    cells = state.cells
    se, crit = state.inference_plan.cell_standard_errors(cells.influence, alpha, bootstrap=state.bootstrap_cells)
    stat, p, lo, hi = wald(cells.att, se, alpha, df)
    glab, tlab = cells.labels(cells.group), cells.labels(cells.time)
    out = pd.DataFrame({
        "term": [f"ATT({g},{t})" for g, t in zip(glab, tlab)],
        "estimate": cells.att, "std_error": se, "statistic": stat, "p_value": p,
        "conf_low": lo, "conf_high": hi, "group": glab, "time": tlab,
        "rel_time": (cells.time - cells.group).astype(float),
    })
    if crit is not None and np.isfinite(crit):
        out["band_low"] = cells.att - crit * se
        out["band_high"] = cells.att + crit * se
    out = tidy(out)
    out["base_period"] = cells.labels(cells.base)
    out["n_treated"] = cells.n_treated
    out["n_control"] = cells.n_control
    return out


@dataclass(frozen=True, eq=False)
class CSState(FamilyState):
    """What a Callaway-Sant'Anna result needs to be re-aggregated without refitting.

    The result's typed state (``result.state``; :mod:`evalint.results.state`): every
    ATT(g,t) cell with its influence functions (``cells``), the inference declaration and
    cluster codes, the call's settings (``spec``, also :attr:`covariates`), the fit's notes,
    and ``aggregation``, the aggregation the result shows.
    """

    cells: GroupTimeCells
    inference: InferenceSpec
    inference_info: InferenceInfo
    inference_plan: InfluencePlan
    cluster: np.ndarray | None
    bootstrap_cells: bool
    outcome: str
    outcome_label: str
    spec: dict
    notes: dict
    base_diagnostics: tuple[CheckResult, ...] = ()
    base_flags: tuple[Flag, ...] = ()
    intervention: Any = None
    n_obs: int | None = None
    n_periods: int | None = None
    extra_info: dict = field(default_factory=dict)
    pretrend: str = "trend"
    aggregation: str = "simple"

    @property
    def covariates(self) -> tuple[str, ...]:
        """The covariates the ATT(g,t) were adjusted for (empty: none)."""
        return tuple(self.spec.get("covariates", ()))

    @property
    def reference_period(self) -> str:
        """What the ATT(g,t) are relative to: the varying or the universal base period."""
        return ("varying: t-1 before treatment, g-1-anticipation after"
                if self.spec.get("base_period") == "varying" else "universal: g-1-anticipation")

    def reference_label(self) -> str:
        """:attr:`reference_period` (the event-study figure's axis label shows it)."""
        return self.reference_period

    def __str__(self) -> str:  # shown in summaries: keep it one line
        return (f"{len(self.cells.att)} ATT(g,t) cells x {self.cells.n_units} units with influence "
                "functions (use aggregate_att to re-aggregate)")


def _cross_product_by_cohort(cells: GroupTimeCells, cols: np.ndarray) -> np.ndarray:
    """psi[:, cols]' psi[:, cols], summed over blocks of units of one cohort.

    A unit's influence function is zero in every cell where it is neither treated nor a
    comparison unit, so each cohort's block only touches a few columns: summing block
    products over those columns is several times cheaper than one dense product.
    """
    if hasattr(cells.influence, "cross_product"):   # cohort form: its blocks directly
        return cells.influence.cross_product(np.asarray(cols))
    k = len(cols)
    out = np.zeros((k, k))
    coh = cells.unit_cohort
    key = np.where(np.isnan(coh), -np.inf, coh)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
    nonzero = cells.influence != 0   # gathered per block as bytes, then only the needed values
    for a, b in zip(bounds[:-1], bounds[1:]):
        units = order[a:b]
        nz = np.flatnonzero(np.any(nonzero[units], axis=0)[cols])
        if len(nz):
            sub = cells.influence[np.ix_(units, cols[nz])]
            out[np.ix_(nz, nz)] += sub.T @ sub
    return out


def pretrend_wald(cells: GroupTimeCells, alpha: float) -> CheckResult:
    """Joint Wald test that all pre-treatment ATT(g,t) are zero (analytic V, as R did's att_gt pre-test).

    Kept for replication (``pretrend="wald"``): with many pre-treatment cells and few units it
    rejects exactly parallel trends almost always (methods/did.md, "Pre-trend tests").
    """
    pre = np.flatnonzero(cells.time < cells.group)
    n = cells.n_units
    v = _cross_product_by_cohort(cells, pre) / n**2
    keep = np.sqrt(np.diag(v)) > _DEGENERATE  # drop cells without variance (R: zero_na_sd_entry)
    pre, v = pre[keep], v[np.ix_(keep, keep)]
    if not len(pre):
        return CheckResult("pre_trend_wald", None, "No pre-treatment ATT(g,t) cells with a variance: "
                           "the parallel-trends pre-test cannot be run.")
    ev = np.abs(np.linalg.eigvalsh(v))  # v is symmetric: its singular values are |eigenvalues|
    if not ev.min() > 0 or ev.max() / ev.min() > 1 / np.finfo(float).eps:
        return CheckResult("pre_trend_wald", None, "The covariance of the pre-treatment ATT(g,t) is "
                           "singular; the pre-test is not reported.")
    return wald_check(cells.att[pre], v, df2=None, alpha=alpha, what="pre-treatment ATT(g,t)")


def cs_pretrend(state: CSState, alpha: float) -> CheckResult:
    """The pre-trend check ``state.pretrend`` asks for (:mod:`evalint.diagnostics.pretrend`).

    ``"trend"``/``"joint"``: on the pre-treatment ATT(g,t) aggregated by event time (the
    dynamic aggregation at e < 0, with its influence functions), each cluster's contribution
    the cluster sum of the influence functions / n; the varying base period gives
    period-on-period changes, the universal one levels relative to e = -1 - anticipation.
    ``"wald"``: :func:`pretrend_wald` (R ``did``).
    """
    cells = state.cells
    if state.pretrend == "wald":
        return pretrend_wald(cells, alpha)
    try:
        agg = aggregate_cells(cells, "dynamic", max_e=-1)
    except EvalintError as exc:
        return CheckResult("pre_trend", None, f"Pre-trend test not run: {exc}")
    n = cells.n_units
    treated = ~np.isnan(cells.unit_cohort)
    try:  # the effect at e = 0, for the bias after passing the test (Roth 2022)
        infl0: np.ndarray | None = aggregate_cells(cells, "dynamic", min_e=0, max_e=0).influence[:, :1]
    except EvalintError:
        infl0 = None
    if state.cluster is not None:
        ng = int(np.max(state.cluster)) + 1
        z = _cluster_sums(agg.influence, np.asarray(state.cluster), ng) / n
        z0 = None if infl0 is None else _cluster_sums(infl0, np.asarray(state.cluster), ng) / n
        tr = np.bincount(state.cluster, weights=treated.astype(float), minlength=ng) > 0
    else:   # (in place: agg is this function's own; no second units x event-times matrix)
        z, tr = agg.influence, treated
        z /= n
        z0 = None if infl0 is None else infl0 / n
    ant = int(state.spec.get("anticipation", 0))
    universal = state.spec.get("base_period") == "universal"
    e = np.asarray(agg.labels, dtype=float)
    keep = e != -1 - ant if universal else np.ones(len(e), bool)
    return pretrend_check(e[keep], agg.estimates[keep], z if keep.all() else z[:, keep], tr, method=state.pretrend,
                          form="levels" if universal else "differences", reference=-1.0 - ant, alpha=alpha,
                          post_contributions=None if z0 is None or z0.shape[1] != 1 else z0[:, 0])


_ESTIMANDS = {
    "simple": "ATT, simple aggregation (post-treatment ATT(g,t) weighted by cohort size)",
    "dynamic": "ATT averaged over event times e >= 0 (dynamic aggregation); rows: ATT by event time",
    "group": "ATT, group aggregation (cohort-specific ATTs weighted by cohort size); rows: ATT by cohort",
    "calendar": "ATT averaged over calendar periods (calendar aggregation); rows: ATT by period",
}


def build_result(state: CSState, kind: str = "simple", *, alpha: float = 0.05, min_e: float = -np.inf,
                 max_e: float = np.inf, balance_e: int | None = None, panel: Any = None,
                 provenance: Any = None) -> EffectResult:
    """Turn fitted cells into an EffectResult for the chosen aggregation."""
    a = check_alpha(alpha)
    cells = state.cells
    agg = aggregate_cells(cells, kind, min_e=min_e, max_e=max_e, balance_e=balance_e)
    psi = np.column_stack([agg.overall_influence, agg.influence])
    se, crit = state.inference_plan.standard_errors(psi, a)
    df = state.inference_info.df
    effects = _rows_frame(cells, agg, se[1:], crit, a, df)
    table = att_gt_table(state, a, df)
    diagnostics = tuple(state.base_diagnostics) + (cs_pretrend(state, a),)
    flags = tuple(state.base_flags) + tuple(f for d in diagnostics[-1:] for f in d.flags)
    info: dict[str, Any] = {"aggregation": kind}
    if kind == "dynamic":
        info["event-time window"] = (f"{agg.labels.min()}..{agg.labels.max()}"
                                     + (f", balanced at e = {balance_e}" if balance_e is not None else ""))
    if kind in ("simple", "group") and np.isfinite(max_e):
        info["max_e"] = f"{max_e:g}"
    info.update(state.extra_info)
    info["reference_period"] = state.reference_period
    if crit is not None:
        info["critical_value_band"] = crit
    info["cs_state"] = str(state)
    term = {"simple": "ATT (simple)", "dynamic": "ATT (dynamic, e>=0)", "group": "ATT (group)",
            "calendar": "ATT (calendar)"}[kind]
    res = make_result(
        method="Callaway-Sant'Anna", estimand=_ESTIMANDS[kind], term=term, outcome=state.outcome,
        outcome_label=state.outcome_label, estimate=agg.overall, se=float(se[0]), alpha=a,
        inference=state.inference_info, panel=panel, seed=getattr(state.inference, "seed", None),
        spec=state.spec, effects=effects, tables=_tables(state, agg, table), diagnostics=diagnostics,
        flags=flags, influence=cells.influence, influence_index=cells.units,
        plot_kind={"dynamic": "event_study", "calendar": "effects_over_time"}.get(kind, "estimate"),
        intervention=state.intervention, n_obs=state.n_obs, n_units=cells.n_units,
        n_periods=state.n_periods, info=info, state=dataclasses.replace(state, aggregation=kind),
        references=(
            "Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time "
            "periods. Journal of Econometrics 225(2), 200-230.",
            "Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences estimators. "
            "Journal of Econometrics 219(1), 101-122.",
        ),
    )
    if provenance is not None:
        res = dataclasses.replace(res, provenance=provenance)
    return res


def headline_numbers(cells: GroupTimeCells, plan: Any, info: InferenceInfo, kind: str = "simple", *,
                     alpha: float = 0.05, min_e: float = -np.inf, max_e: float = np.inf,
                     balance_e: int | None = None) -> tuple[float, float, tuple[float, float], float]:
    """``(estimate, se, ci, p_value)`` of :func:`build_result`'s headline row, computed as it does
    (the same aggregation, standard errors of the same influence matrix, the Wald interval of
    :func:`evalint.results.effect.make_result`), without building the result."""
    agg = aggregate_cells(cells, kind, min_e=min_e, max_e=max_e, balance_e=balance_e)
    psi = np.column_stack([agg.overall_influence, agg.influence])
    se, _crit = plan.standard_errors(psi, alpha)
    _, p, lo, hi = wald(agg.overall, float(se[0]), alpha, info.df)
    return float(agg.overall), float(se[0]), (lo, hi), float(p)


def _tables(state: CSState, agg: Aggregation, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``att_gt``, plus for the dynamic aggregation ``event_time_vcov``: the analytic covariance of
    the event-time estimates from their influence functions (clustered as the SEs are), indexed
    by event time; read by :mod:`evalint.sensitivity` (HonestDiD, pre-trend power)."""
    out = {"att_gt": table}
    if agg.kind == "dynamic":
        m = agg.influence
        if state.cluster is not None:
            sums = np.zeros((int(np.max(state.cluster)) + 1, m.shape[1]))
            np.add.at(sums, np.asarray(state.cluster), m)
            m = sums
        lab = pd.Index(agg.labels.astype(float), name="rel_time")
        out["event_time_vcov"] = pd.DataFrame(m.T @ m / agg.influence.shape[0] ** 2, index=lab, columns=lab)
    return out


def aggregate_att(result: EffectResult, kind: str = "simple", *, min_e: float = -np.inf,
                  max_e: float = np.inf, balance_e: int | None = None,
                  alpha: float | None = None) -> EffectResult:
    """Re-aggregate a fitted Callaway-Sant'Anna result without refitting.

    Uses the ATT(g,t) influence functions kept on ``result`` (``result.influence``,
    rows ``result.influence_index``) and the same inference declaration.

    Parameters
    ----------
    result : EffectResult
        From :class:`~evalint.estimators.did.cs.estimator.CallawaySantAnna`.
    kind : {"simple", "dynamic", "group", "calendar"}
    min_e, max_e, balance_e : see :func:`aggregate_cells`.
    alpha : float, optional
        Defaults to the result's alpha.

    Examples
    --------
    >>> es = aggregate_att(fit, "dynamic", min_e=-3, max_e=3)   # doctest: +SKIP
    """
    state = result.state
    if not isinstance(state, CSState):
        raise SpecificationError(
            "aggregate_att needs a Callaway-Sant'Anna result (from CallawaySantAnna.fit or "
            f"callaway_santanna); got a result of method {result.method!r}."
        )
    return build_result(state, kind, alpha=result.alpha if alpha is None else alpha, min_e=min_e,
                        max_e=max_e, balance_e=balance_e, provenance=result.provenance)


def aggregate(result: EffectResult, type: str = "simple", **options: Any) -> EffectResult:  # noqa: A002
    """Alias of :func:`aggregate_att` with R ``did``'s argument name (``aggte(type=...)``)."""
    return aggregate_att(result, type, **options)
