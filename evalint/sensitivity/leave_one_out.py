"""Leave-one-out: refit dropping each comparison unit (DiD) or donor (synthetic control) in turn.

An estimate that hinges on one comparison area is fragile: the range of the leave-one-out
estimates shows how much any single area drives it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalint._parallel import parallel_map
from evalint.data import Panel
from evalint.errors import SpecificationError, TreatmentError, format_examples
from evalint.sensitivity.refit import (
    check_level,
    check_once,
    resolve_design,
    result_row,
    retime,
    treated_and_start,
    without_other_treated,
)
from evalint.sensitivity.robustness import RobustnessResult

REFERENCES = (
    ("Abadie A, Diamond A, Hainmueller J (2015). Comparative politics and the synthetic control method. "
    "American Journal of Political Science 59(2):495-510 (leave-one-out robustness)."),
    ("Abadie A (2021). Using synthetic controls: feasibility, data requirements, and methodological aspects. "
    "Journal of Economic Literature 59(2):391-425."),
)


def leave_one_out(
    panel: Panel,
    estimator: str | Callable[..., Any] = "synthetic_control",
    *,
    units: Sequence[Any] | None = None,
    intervention: Any = None,
    treated: Any = None,
    alpha: float = 0.05,
    n_jobs: int = 1,
    backend: str = "loky",
    **options: Any,
) -> RobustnessResult:
    """Refit the design once per comparison unit, leaving that unit out.

    Parameters
    ----------
    panel : Panel
    estimator : str or callable
        ``"synthetic_control"``, a DiD estimator name, or ``fit(panel, intervention)``.
    units : sequence, optional
        The comparison units to drop one at a time; default every untreated unit (with
        ``donors=`` in ``options``, those donors).
    intervention, treated
        Start and treated units (default from the panel's timing).
    alpha : float
        Level used for the ``significant`` column.
    n_jobs, backend : int, str
        Workers and joblib backend for the refits (:func:`evalint._parallel.parallel_map`;
        ``"loky"`` processes by default, ``"threading"``, or ``"dask"``/``"ray"`` once registered
        with joblib; n_jobs > 1 needs joblib from the ``records`` extra). Same table for any value.
    **options
        Passed to the estimator (a ``donors=`` list loses the dropped unit in each refit).

    Returns
    -------
    RobustnessResult
        ``to_frame()``: the fit on all units (``dropped`` = ``None``, ``role="all"``) then one row
        per dropped unit, with ``estimate``, ``std_error``, ``conf_low``, ``conf_high``,
        ``p_value``, ``significant`` and ``change`` (estimate minus the all-units estimate).
        The check is descriptive: ``p_value`` is ``nan``; ``info`` holds the range.

    References
    ----------
    Abadie, Diamond & Hainmueller (2015); Abadie (2021).
    """
    alpha = check_level(alpha)
    tr, start = treated_and_start(panel, treated, intervention)
    if start is None or not tr:
        raise TreatmentError("leave_one_out needs treated units and their start: pass treated= and "
                             "intervention=, or build the panel with cohort=/treatment=.")
    panel, others = without_other_treated(panel, tr)
    opts = dict(options)
    donors = opts.pop("donors", None)
    pool = [u for u in (donors if donors is not None else panel.units) if u not in set(tr)]
    if units is None:
        units = pool
    else:
        units = list(units)
        if not units:
            raise SpecificationError("units= lists no comparison unit to leave out; pass some, or None for every "
                                     f"comparison unit ({format_examples(pool, limit=10)}).")
        check_once("units", units)
        bad = [u for u in units if u not in set(pool)]
        if bad:
            raise SpecificationError(f"units= lists {format_examples(bad)}, which are not comparison units "
                                     f"(treated, or not in the panel/donors). Comparison units: "
                                     f"{format_examples(pool, limit=10)}.")
    if len(pool) < 2:
        raise SpecificationError(f"leave_one_out needs at least 2 comparison units; there are {len(pool)}.")
    base = retime(panel, tr, start)

    def fit_without(drop: Any) -> Any:
        keep_pool = [u for u in pool if u != drop]
        o = dict(opts)
        if donors is not None:
            o["donors"] = keep_pool
        design = resolve_design(estimator, o, uses_timing=True)
        p = base if drop is None else base.subset(units=[u for u in base.units if u != drop])
        return design.fit(p, start), design.name

    rows = []
    name = "custom"
    drops = [None, *units]
    fits = parallel_map(lambda drop, _rng: fit_without(drop), drops, seed=0, n_jobs=n_jobs, backend=backend)
    for drop, (res, name) in zip(drops, fits):
        row = {"role": "all" if drop is None else "dropped", "dropped": drop}
        row.update(result_row(res, alpha))
        rows.append(row)
    table = pd.DataFrame(rows)
    table["change"] = table["estimate"] - table["estimate"].iloc[0]
    full = float(table["estimate"].iloc[0])
    loo = table.iloc[1:]
    lo, hi = float(loo["estimate"].min()), float(loo["estimate"].max())
    worst = loo.loc[loo["change"].abs().idxmax()]
    flips = loo.loc[np.sign(loo["estimate"]) != np.sign(full), "dropped"].tolist()
    sig_changes = loo.loc[loo["significant"] != bool(table["significant"].iloc[0]), "dropped"].tolist()
    verdict = (f"Dropping one comparison unit at a time moves the estimate {full:.4g} within [{lo:.4g}, {hi:.4g}]; "
               f"the largest change ({worst['change']:+.4g}) comes from dropping {worst['dropped']!r}.")
    notes = []
    if flips:
        notes.append(f"Dropping {format_examples(flips)} reverses the sign of the estimate.")
    if sig_changes:
        notes.append(f"Dropping {format_examples(sig_changes)} changes whether the estimate is significant at "
                     f"{alpha:g}.")
    if others:
        notes.append(f"Units treated at other dates ({format_examples(others)}) are left out of every refit.")
    notes.append("Descriptive: the leave-one-out range is not a confidence interval.")
    info = {"intervention": str(start), "treated": list(tr), "units": list(units), "range": (lo, hi),
            "most_influential": worst["dropped"]}
    return RobustnessResult(check="leave_one_out", design=name, estimate=full, p_value=float("nan"), alpha=alpha,
                            table=table, verdict=verdict, notes=tuple(notes), info=info, references=REFERENCES)
