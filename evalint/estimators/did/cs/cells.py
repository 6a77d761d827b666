"""ATT(g,t) cells of Callaway-Sant'Anna: every group-time effect with its influence function.

From a Panel with treatment timing: the units x periods outcome matrix, time-invariant
covariates and sampling weights; units and periods that cannot be used are dropped (warned
and counted); each cohort's cells get their base period and comparison group (steps 1-3 of
the algorithm in :mod:`evalint.estimators.did.cs.estimator`) and are estimated with the 2x2
estimators of :mod:`evalint.estimators.did.cs.two_by_two` (step 4). The resulting
:class:`GroupTimeCells` is what :mod:`evalint.estimators.did.cs.aggregate` combines.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import (
    DroppedRowsWarning,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelWarning,
    format_examples,
)
from evalint.estimators.did.cs.two_by_two import _check_rank, _difference_of_means, _two_by_two

__all__ = ["CohortInfluence", "GroupTimeCells", "estimate_group_time", "outcome_matrix"]


@dataclass(frozen=True)
class GroupTimeCells:
    """ATT(g,t) cells and everything aggregation needs.

    Attributes
    ----------
    group, time, base : ndarray of int
        Period ordinals of each cell's cohort, period and base period.
    att : ndarray
        ATT(g,t) estimates.
    influence : ndarray or CohortInfluence (n_units, n_cells)
        Influence functions (R ``did`` scaling: SE = sqrt(sum psi^2) / n). Without
        covariates a :class:`CohortInfluence` (cohort form; ``numpy.asarray`` gives the dense
        matrix), with covariates a dense array.
    n_treated, n_control : ndarray of int
        Units in the cell's treated and comparison groups.
    units : pandas.Index
        Unit ids, the rows of ``influence``.
    unit_cohort : ndarray of float
        Each unit's cohort ordinal (NaN if never treated, or if used only as a comparison).
    unit_weights : ndarray
        Sampling weights normalised to mean 1 (ones if unweighted).
    freq : str
    """

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    units: pd.Index
    unit_cohort: np.ndarray
    unit_weights: np.ndarray
    freq: str

    @property
    def n_units(self) -> int:
        return len(self.units)

    def period(self, ordinal: float) -> pd.Period:
        return pd.Period(ordinal=int(ordinal), freq=self.freq)

    def labels(self, ordinals: np.ndarray) -> list[str]:
        """Period labels (``'2004'``, ``'2019-07'``...) for an array of ordinals."""
        uniq, inv = np.unique(np.asarray(ordinals, dtype=np.int64), return_inverse=True)
        text = [str(pd.Period(ordinal=int(o), freq=self.freq)) for o in uniq]
        return [text[i] for i in inv.ravel()]



# --------------------------------------------------------------------------- influence in cohort form
_CHUNK_BYTES = 2**20   # blocks of about 1 MB: they stay in cache between their passes


class CohortInfluence:
    r"""The units x cells influence matrix of the no-covariate ATT(g,t), kept in cohort form.

    Without covariates every ATT(g,t) is a difference of weighted mean changes, so unit i
    of cohort row r (a treated cohort, a comparison-only cohort or the never treated) has

    .. math:: \psi_{ik} = s_{rk}\, w_i\, (Y_{i,t(k)} - Y_{i,b(k)} - c_{rk}),

    with ``scale`` :math:`s_{rk}` (n / W_G for the cell's treated cohort, -n / W_C for its
    comparison rows, 0 otherwise) and ``centre`` :math:`c_{rk}` the mean change of the
    cell's treated or comparison units. The object stores the outcome rows of each cohort
    (units x periods) and the rows x cells coefficients - memory grows with units, not
    units x cells - and computes what inference needs from them: ``U @ psi`` for multiplier
    draws (:meth:`left_multiply`; per cohort ``U_r (w Y_r)``, then differences of columns),
    ``psi @ W`` for aggregations, column sums of squares for analytic SEs, cluster sums
    (:meth:`by_cluster`), and the dense matrix only on request (``numpy.asarray``,
    indexing).

    Parameters
    ----------
    y : ndarray (n, T)
        Outcomes of the units (rows) in the periods (columns).
    w : ndarray (n,)
        Sampling weights (as used by the 2x2 estimator).
    row : ndarray of int (n,)
        Each unit's cohort row.
    jk, bk : ndarray of int (K,)
        Each cell's period and base-period column.
    scale, centre : ndarray (rows, K)

    References
    ----------
    Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230 (Section 4.1).
    """

    ndim = 2
    dtype = np.dtype(float)

    def __init__(self, y: np.ndarray | None, w: np.ndarray | None, row: np.ndarray | None,
                 jk: np.ndarray, bk: np.ndarray, scale: np.ndarray | None, centre: np.ndarray | None,
                 *, _groups: list | None = None, _n: int | None = None, _n_rows: int | None = None) -> None:
        self._k = len(jk)
        if _groups is not None:     # cluster-level copy (by_cluster)
            self._groups, self._n, self._unit_level, self._n_rows = _groups, int(_n), False, int(_n_rows)
            return
        self._n, self._n_rows, self._unit_level = len(w), len(w), True
        n_t = y.shape[1]
        self._groups = []
        # per cohort row: its units' positions, [w Y | w] (units x T+1), its cells and coefficients
        for r in range(scale.shape[0]):
            pos = np.flatnonzero(row == r)
            nz = np.flatnonzero(scale[r] != 0)
            if not len(pos) or not len(nz):
                continue
            arr = np.empty((len(pos), n_t + 1))
            arr[:, :n_t] = y[pos]
            arr[:, n_t] = w[pos]
            if np.any(w[pos] != 1.0):
                arr[:, :n_t] *= w[pos, None]
            self._groups.append((pos, arr, nz, jk[nz], bk[nz], scale[r, nz], centre[r, nz]))

    # ---------------------------------------------------------------- array protocol
    @property
    def shape(self) -> tuple[int, int]:
        return (self._n_rows, self._k)

    def __len__(self) -> int:
        return self._n_rows

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.dense()[key]

    def __matmul__(self, other: Any) -> np.ndarray:
        return self.matmul(other)

    # ---------------------------------------------------------------- blocks
    @staticmethod
    def _block(grp: tuple, a: int, b: int) -> np.ndarray:
        """Rows a:b of one cohort's non-zero block (rows x its cells): s (wY_t - wY_b - w c)."""
        _, arr, _, j, bb, sc, ce = grp
        rows = arr[a:b]
        blk = rows[:, j]
        blk -= rows[:, bb]
        blk -= rows[:, -1:] * ce
        blk *= sc
        return blk

    @staticmethod
    def _chunks(grp: tuple):
        step = max(1, _CHUNK_BYTES // (8 * max(len(grp[2]), 1)))
        for a in range(0, len(grp[0]), step):
            yield a, min(a + step, len(grp[0]))

    def dense(self) -> np.ndarray:
        """The full rows x cells matrix (units x cells, or clusters x cells after :meth:`by_cluster`)."""
        return self._rows(0, self._n_rows)

    def _rows(self, lo: int, hi: int) -> np.ndarray:
        """Dense rows lo:hi (cluster level: sums over the cohorts a cluster's units belong to)."""
        out = np.zeros((hi - lo, self._k))
        for grp in self._groups:
            pos, nz = grp[0], grp[2]
            a, b = (int(v) for v in np.searchsorted(pos, [lo, hi]))
            for c0 in range(a, b, max(1, _CHUNK_BYTES // (8 * len(nz)))):
                c1 = min(b, c0 + max(1, _CHUNK_BYTES // (8 * len(nz))))
                out[np.ix_(pos[c0:c1] - lo, nz)] += self._block(grp, c0, c1)
        return out

    # ---------------------------------------------------------------- products
    def left_multiply(self, u: np.ndarray) -> np.ndarray:
        """``u @ psi`` for a (m x rows) matrix ``u`` (any numeric dtype, e.g. 0/1 bytes): per cohort
        ``u_r @ [w Y_r | w_r]`` (m x T+1), then the cells' differences of columns - never the
        rows x cells matrix."""
        out = np.zeros((u.shape[0], self._k))
        for pos, arr, nz, j, bb, sc, ce in self._groups:
            z = np.take(u, pos, axis=1).astype(np.float64, copy=False) @ arr
            d = z[:, j]
            d -= z[:, bb]
            d -= z[:, -1:] * ce
            d *= sc
            out[:, nz] += d
        return out

    def column_sums(self) -> np.ndarray:
        """``1' psi`` (zero up to rounding for differences of means)."""
        return self.left_multiply(np.ones((1, self._n_rows)))[0]

    def matmul(self, weights: np.ndarray) -> np.ndarray:
        """``psi @ weights`` (cells x J, or a cells vector): per cohort ``[w Y_r | w_r] L_r`` with
        ``L_r`` the (T+1) x J loadings of the cells - cost units x periods x J."""
        wm = np.asarray(weights, dtype=float)
        vec = wm.ndim == 1
        wm = wm.reshape(self._k, -1)
        out = np.zeros((self._n_rows, wm.shape[1]))
        for pos, arr, nz, j, bb, sc, ce in self._groups:
            coef = sc[:, None] * wm[nz]                 # cells of this cohort x J
            load = np.zeros((arr.shape[1], wm.shape[1]))
            np.add.at(load, j, coef)
            np.add.at(load, bb, -coef)
            load[-1] = -(ce @ coef)
            if self._unit_level:
                out[pos] = arr @ load
            else:
                out[pos] += arr @ load
        return out[:, 0] if vec else out

    def column_sq_sums(self) -> np.ndarray:
        """``sum_i psi_ik^2`` per cell (of cluster sums after :meth:`by_cluster`)."""
        out = np.zeros(self._k)
        if self._unit_level:    # each unit is in one cohort row: square the cohort blocks
            for grp in self._groups:
                for a, b in self._chunks(grp):
                    blk = self._block(grp, a, b)
                    out[grp[2]] += np.einsum("ij,ij->j", blk, blk)
            return out
        step = max(1, _CHUNK_BYTES // (8 * max(self._k, 1)))
        for lo in range(0, self._n_rows, step):
            blk = self._rows(lo, min(lo + step, self._n_rows))
            out += np.einsum("ij,ij->j", blk, blk)
        return out

    def cross_product(self, cols: np.ndarray) -> np.ndarray:
        """``psi[:, cols]' psi[:, cols]`` summed over cohort blocks (unit level)."""
        if not self._unit_level:
            raise ValueError("cross_product applies to unit-level influence functions")
        k = len(cols)
        out = np.zeros((k, k))
        where = np.full(self._k, -1)
        where[cols] = np.arange(k)
        for grp in self._groups:
            loc = where[grp[2]]
            keep = np.flatnonzero(loc >= 0)
            if not len(keep):
                continue
            li = loc[keep]
            for a, b in self._chunks(grp):
                blk = self._block(grp, a, b)[:, keep]
                out[np.ix_(li, li)] += blk.T @ blk
        return out

    def by_cluster(self, codes: np.ndarray, n_clusters: int) -> CohortInfluence:
        """The same influence in cluster sums: rows = clusters (codes 0..G-1 per unit)."""
        from scipy import sparse

        if not self._unit_level:
            raise ValueError("by_cluster applies to unit-level influence functions")
        codes = np.asarray(codes, dtype=np.int64)
        groups = []
        for pos, arr, *rest in self._groups:
            upos, inv = np.unique(codes[pos], return_inverse=True)
            agg = sparse.csr_matrix((np.ones(len(pos)), (inv.ravel(), np.arange(len(pos)))),
                                    shape=(len(upos), len(pos)))
            groups.append((upos, np.asarray(agg @ arr), *rest))
        return CohortInfluence(None, None, None, np.empty(self._k), None, None, None,
                               _groups=groups, _n=self._n, _n_rows=n_clusters)


# --------------------------------------------------------------------------- cell layout
def _cells_for_cohort(g: int, per: np.ndarray, anticipation: int, base_period: str) -> list[tuple[int, int]]:
    """(current index, base index) pairs for cohort g, as R did's compute.att_gt."""
    before = np.flatnonzero(per + anticipation < g)
    pret_g = int(before[-1])
    out = []
    start = 1 if base_period == "varying" else 0
    for j in range(start, len(per)):
        if base_period == "universal" or per[j] >= g:
            out.append((j, pret_g))
        else:
            out.append((j, j - 1))
    return out


def estimate_group_time(
    panel, *, outcome: str, control: str, method: str, covariates: tuple[str, ...],
    anticipation: int, base_period: str, unbalanced: str, weights: bool,
) -> tuple[GroupTimeCells, dict]:
    """Compute every ATT(g,t) with its influence function.

    Returns the cells and a dict of notes (dropped units/periods, singleton cohorts) for
    the result's ``info`` and flags.
    """
    notes: dict = {"dropped_units_unbalanced": 0, "dropped_units_no_pre_period": 0,
                   "dropped_periods_no_comparison": 0, "singleton_cohorts": []}
    timing = panel.timing
    if timing is None:
        raise SpecificationError(
            "Callaway-Sant'Anna needs treatment timing: build the Panel with cohort= (first treated "
            "period) or treatment= (absorbing 0/1)."
        )
    y, units, per = outcome_matrix(panel, outcome)
    keep = np.ones(len(units), dtype=bool)

    missing = np.isnan(y)
    if missing.any():
        bad = missing.any(axis=1)
        if unbalanced == "error":
            panel.require_balanced("Callaway-Sant'Anna with unbalanced='error'")
        warnings.warn(
            f"Unbalanced panel: {int(bad.sum())} of {len(units)} unit(s) miss {int(missing.sum())} "
            f"unit-period cell(s) (e.g. {format_examples(list(units[bad]))}). Callaway-Sant'Anna uses "
            "the balanced sub-panel: those units are dropped from every ATT(g,t) (as R did does by "
            "default). Pass unbalanced='error' to refuse instead, or fill/trim the panel.",
            UnbalancedPanelWarning, stacklevel=4,
        )
        notes["dropped_units_unbalanced"] = int(bad.sum())
        keep &= ~bad

    data = panel.data
    xmat = None
    if covariates:
        xmat = _unit_covariates(panel, data, covariates, units)
    wvec = np.ones(len(units))
    if weights:
        if panel.weights is None:
            raise SpecificationError("weights=True but the panel has no weights column; build it with weights=.")
        wvec = _unit_constant(panel, data, panel.weights, units, "weights").astype(float)

    cohort = timing.cohort.reindex(units)
    coh = np.where(cohort.isna().to_numpy(), np.nan, pd.PeriodIndex(cohort).asi8.astype(float))
    early = ~np.isnan(coh) & (coh <= per[0] + anticipation) & keep
    if early.any():
        warnings.warn(
            f"Dropped {int(early.sum())} unit(s) whose cohort starts within {anticipation} anticipation "
            f"period(s) of the first period ({format_examples(list(units[early]))}): they have no "
            "untreated base period. Add earlier periods or lower anticipation to keep them.",
            DroppedRowsWarning, stacklevel=4,
        )
        notes["dropped_units_no_pre_period"] = int(early.sum())
        keep &= ~early

    if not keep.all():   # (a boolean index would copy the outcome matrix even when nothing drops)
        y, coh, wvec, units = y[keep], coh[keep], wvec[keep], units[keep]
    if xmat is not None:
        xmat = xmat[keep]
    never = np.isnan(coh)
    cohorts = np.unique(coh[~never]).astype(np.int64)
    if len(cohorts) == 0:
        raise TreatmentError(
            "No treated units are left to estimate ATT(g,t) for (after dropping units treated in "
            "their first period or with missing cells). Callaway-Sant'Anna needs at least one "
            "cohort first treated after the first period."
        )
    treated_cohorts = cohorts
    if not never.any():
        if control == "never_treated":
            raise SpecificationError(
                "control='never_treated' but no unit is never treated. Use control='not_yet_treated' "
                "to compare each cohort with cohorts not yet treated by then (the latest cohort then "
                "serves only as a comparison group, and periods from its start are dropped)."
            )
        latest = int(cohorts.max())
        if len(cohorts) == 1:
            raise SpecificationError(
                f"All {len(units)} units are first treated in the same period "
                f"({pd.Period(ordinal=latest, freq=panel.freq)}) "
                "and none is never treated: there is no comparison group for any period. Add "
                "never-treated (or later-treated) units, or use an interrupted time series design."
            )
        cut = per < latest - anticipation
        notes["dropped_periods_no_comparison"] = int((~cut).sum())
        warnings.warn(
            f"No never-treated units: the latest cohort ({pd.Period(ordinal=latest, freq=panel.freq)}) is used only "
            f"as a not-yet-treated comparison, and the {int((~cut).sum())} period(s) from its start "
            f"(minus anticipation) are dropped because no comparison units remain in them.",
            DroppedRowsWarning, stacklevel=4,
        )
        y, per = y[:, cut], per[cut]
        treated_cohorts = cohorts[cohorts < latest]

    sizes = {int(g): int(np.sum(coh == g)) for g in treated_cohorts}
    notes["singleton_cohorts"] = [g for g, s in sizes.items() if s == 1]
    cells = []
    for g in treated_cohorts:
        for j, b in _cells_for_cohort(int(g), per, anticipation, base_period):
            cells.append((int(g), j, b))
    gk = np.array([c[0] for c in cells], dtype=np.int64)
    jk = np.array([c[1] for c in cells], dtype=np.int64)
    bk = np.array([c[2] for c in cells], dtype=np.int64)
    later = per[np.maximum(jk, bk)]
    # comparison membership by cohort "row": rows = treated cohort list + never
    row_vals = np.concatenate([cohorts.astype(float), [np.nan]])
    ctrl = np.zeros((len(row_vals), len(cells)), dtype=bool)
    ctrl[-1] = True
    if control == "not_yet_treated":
        ctrl[:-1] = (cohorts[:, None] > later[None, :] + anticipation) & (cohorts[:, None] != gk[None, :])
    treat = np.zeros_like(ctrl)
    treat[:-1] = cohorts[:, None] == gk[None, :]
    row = np.where(never, len(cohorts), np.searchsorted(cohorts, np.nan_to_num(coh, nan=0).astype(np.int64)))
    rows_have = np.bincount(row, minlength=len(row_vals)) > 0
    ctrl &= rows_have[:, None]
    counts = np.bincount(row, minlength=len(row_vals)).astype(np.int64)
    n_t = counts @ treat
    n_c = counts @ ctrl
    if np.any(n_c == 0):
        k = int(np.flatnonzero(n_c == 0)[0])
        raise SpecificationError(
            f"ATT(g={pd.Period(ordinal=int(gk[k]), freq=panel.freq)}, "
            f"t={pd.Period(ordinal=int(per[jk[k]]), freq=panel.freq)}) has no comparison units "
            f"under control={control!r}. Use control='not_yet_treated' or restrict the periods."
        )

    if xmat is None:
        att, scale, centre = _difference_of_means(y, wvec, row, len(row_vals), jk, bk, treat, ctrl)
        infl = CohortInfluence(y, wvec, row, jk, bk, scale, centre)
    else:
        names = ("(intercept)",) + tuple(covariates)
        _check_rank(xmat, names[1:] if xmat.shape[1] > 1 else names, "the full sample")
        att = np.empty(len(cells))
        infl = np.zeros((len(units), len(cells)))
        n = len(units)
        for k in range(len(cells)):
            is_t = treat[row, k]
            sub = is_t | ctrl[row, k]
            if bk[k] == jk[k]:
                att[k] = 0.0
                continue
            where = (f"ATT(g={pd.Period(ordinal=int(gk[k]), freq=panel.freq)}, "
                     f"t={pd.Period(ordinal=int(per[jk[k]]), freq=panel.freq)})")
            xs = xmat[sub]
            _check_rank(xs, list(covariates), where)
            dy = y[sub, jk[k]] - y[sub, bk[k]]
            try:
                a, inf = _two_by_two(dy, is_t[sub].astype(float), xs, wvec[sub], method, where)
            except np.linalg.LinAlgError:
                raise SpecificationError(
                    f"{where}: the "
                    f"{'outcome regression' if method == 'reg' else 'propensity score or outcome regression'} "
                    f"with covariates {format_examples(list(covariates))} is singular on its {int(sub.sum())} units "
                    f"({int(is_t.sum())} treated). Typical causes: perfect separation of treated and comparison "
                    "units by a covariate, or a covariate constant within the cell. Drop or coarsen the "
                    "covariate, or use estimation='reg'."
                ) from None
            att[k] = a
            infl[sub, k] = (n / sub.sum()) * inf
    cells_out = GroupTimeCells(
        group=gk, time=per[jk], base=per[bk], att=att, influence=infl, n_treated=n_t, n_control=n_c,
        units=units, unit_cohort=np.where(np.isin(coh, treated_cohorts), coh, np.nan),
        unit_weights=wvec / wvec.mean(), freq=panel.freq,
    )
    return cells_out, notes



def outcome_matrix(panel: Any, outcome: str) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Units x periods outcome matrix, unit ids and period ordinals (NaN for missing cells).

    The matrix every ATT(g,t) cell and the closed-form Conley-Taber placebos are computed
    from. A Panel is stored sorted by unit then period, so a balanced one reshapes directly
    (no pivot); otherwise :meth:`Panel.to_matrix` pivots.

    Parameters
    ----------
    panel : Panel
    outcome : str
        An outcome column of ``panel``.

    Returns
    -------
    y : numpy.ndarray
        ``(n_units, n_periods)`` outcomes; NaN where a unit has no row for a period.
    units : pandas.Index
        Unit ids, the rows of ``y`` (named by the panel's unit column).
    periods : numpy.ndarray of int64
        Period ordinals (``pandas.Period.ordinal``), the columns of ``y``, consecutive.

    References
    ----------
    Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.
    """
    data = panel.data
    uid = data[panel.unit].to_numpy()
    ords = pd.PeriodIndex(data[panel.time]).asi8
    if len(uid):
        starts = np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]])
        lo, hi = int(ords.min()), int(ords.max())
        n_units, n_per = len(starts), hi - lo + 1
        if len(uid) == n_units * n_per:
            y = data[outcome].to_numpy(dtype=float).reshape(n_units, n_per)
            return y, pd.Index(uid[starts], name=panel.unit), np.arange(lo, hi + 1, dtype=np.int64)
    ymat = panel.to_matrix(outcome)
    return ymat.to_numpy(dtype=float), ymat.index, ymat.columns.asi8.astype(np.int64)


def _unit_constant(panel, data: pd.DataFrame, col: str, units: pd.Index, role: str) -> np.ndarray:
    g = data.groupby(panel.unit, sort=False)[col]
    lo, hi = g.min(), g.max()
    varies = (hi - lo).abs() > 1e-10 * (1 + hi.abs())
    if varies.any():
        bad = list(varies.index[varies])
        raise SpecificationError(
            f"{role} column {col!r} varies over time within {len(bad)} unit(s) (e.g. {format_examples(bad)}). "
            "Callaway-Sant'Anna (as R did) conditions on one value per unit - R did silently freezes "
            "time-varying covariates at the base period, which evalint refuses to do because it "
            "changes the estimand with the base period. Use a pre-treatment (baseline) value per unit, "
            "e.g. the first period's value, as a time-invariant column."
        )
    return g.first().reindex(units).to_numpy(dtype=float)


def _unit_covariates(panel, data: pd.DataFrame, covariates: tuple[str, ...], units: pd.Index) -> np.ndarray:
    missing = [c for c in covariates if c not in data.columns]
    if missing:
        raise SpecificationError(
            f"covariate(s) {format_examples(missing)} are not columns of the panel; build the Panel with "
            f"covariates=[...] including them (panel covariates: {list(panel.covariates)})."
        )
    cols = [_unit_constant(panel, data, c, units, "covariate") for c in covariates]
    return np.column_stack([np.ones(len(units))] + cols)
