"""Negative-control outcomes: run the same design on an outcome the intervention cannot move.

An effect on a negative-control outcome is evidence of bias shared by the design (a concurrent
shock, a coding change, differential trends), not of the intervention. The user declares which
outcomes qualify; evalint cannot know that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

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
    ("Lipsitch M, Tchetgen Tchetgen E, Cohen T (2010). Negative controls: a tool for detecting confounding "
    "and bias in observational studies. Epidemiology 21(3):383-388."),
    ("Arnold BF, Ercumen A (2016). Negative control outcomes: a tool to detect bias in randomized trials. "
    "JAMA 316(24):2597-2598."),
)


def negative_control(
    panel: Panel,
    estimator: str | Callable[..., Any] = "its",
    *,
    outcome: str | Sequence[str],
    intervention: Any = None,
    treated: Any = None,
    alpha: float = 0.05,
    **options: Any,
) -> RobustnessResult:
    """Fit the design to negative-control outcomes and to the primary outcome, side by side.

    Parameters
    ----------
    panel : Panel
        Holds the primary outcome (``panel.outcome``) and the negative controls among
        ``panel.outcomes`` (build it with ``outcome=[primary, control, ...]``).
    estimator : str or callable
        As in :func:`~evalint.sensitivity.placebo_in_time.placebo_in_time`; a function is
        called as ``fit(panel, intervention)`` with the outcome made primary.
    outcome : str or list of str
        The negative-control outcome column(s): outcomes the intervention cannot plausibly
        move (declared by the analyst, with the reason, in the evaluation protocol).
    intervention, treated
        The start and treated units (default from the panel's timing).
    alpha : float
        Level of each negative-control test; with several controls the verdict uses
        Bonferroni-adjusted p-values (``p_adjusted`` column).
    **options
        Passed to the estimator.

    Returns
    -------
    RobustnessResult
        ``to_frame()``: one row per outcome (``role`` ``"primary"`` then ``"negative_control"``)
        with ``outcome``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``, ``p_value``,
        ``p_adjusted``, ``significant`` (adjusted p < alpha for controls). ``p_value`` of the
        result is the smallest adjusted p over the controls.

    Notes
    -----
    Each control's test has the size of the design's own test on that outcome (a design that
    over-rejects will also flag clean controls); the measured size is in methods/sensitivity.md.
    Passing the check does not prove the absence of bias: a control can only reveal biases it
    shares with the primary outcome.

    References
    ----------
    Lipsitch, Tchetgen Tchetgen & Cohen (2010); Arnold & Ercumen (2016).
    """
    alpha = check_level(alpha)
    controls = [outcome] if isinstance(outcome, str) else list(outcome)
    if not controls:
        raise SpecificationError("outcome= lists no negative-control outcome.")
    check_once("outcome", controls)  # a repeated control would count twice in the Bonferroni adjustment
    unknown = [c for c in controls if c not in panel.outcomes]
    if unknown:
        raise SpecificationError(
            f"negative-control outcome(s) {format_examples(unknown)} are not outcomes of this panel "
            f"({format_examples(panel.outcomes)}). Build the panel with outcome=[{panel.outcome!r}, ...] "
            "listing them."
        )
    if panel.outcome in controls:
        raise SpecificationError(f"outcome={panel.outcome!r} is the panel's primary outcome; a negative control "
                                 "must be another outcome.")
    tr, start = treated_and_start(panel, treated, intervention)
    timed = panel.timing is not None or treated is not None
    design = resolve_design(estimator, options, uses_timing=timed)
    if start is None:
        raise SpecificationError("negative_control needs the intervention date: pass intervention=<date>.")
    if design.uses_timing and not tr:
        raise TreatmentError(f"{design.name} needs treated units: pass treated=<unit or list>.")
    panel, others = without_other_treated(panel, tr)
    base = retime(panel, tr, start) if (design.uses_timing or (timed and design.name == "custom")) else panel
    rows = []
    for role, col in [("primary", panel.outcome), *(("negative_control", c) for c in controls)]:
        res = design.fit(base.with_outcome(col), start)
        row = {"role": role, "outcome": col}
        row.update(result_row(res, alpha))
        rows.append(row)
    table = pd.DataFrame(rows)
    m = len(controls)
    adj = np.minimum(1.0, table["p_value"].to_numpy(dtype=float) * m)
    adj[0] = table["p_value"].iloc[0]
    table["p_adjusted"] = adj
    table["significant"] = table["p_adjusted"] < alpha
    ctrl = table.iloc[1:]
    p = float(ctrl["p_adjusted"].min())
    hit = ctrl.loc[ctrl["significant"], "outcome"].tolist()
    adj_word = f" (Bonferroni over {m})" if m > 1 else ""
    untested = ctrl.loc[~np.isfinite(ctrl["p_value"].to_numpy(dtype=float)), "outcome"].tolist()
    if hit:
        verdict = (f"The design finds an effect on negative-control outcome(s) {format_examples(hit)} "
                   f"(p{adj_word} = {p:.3g} < {alpha:g}), which the intervention cannot move: the design is "
                   "likely biased (a concurrent change, a coding change or diverging trends), and the primary "
                   "estimate should not be read as the intervention's effect without explaining this.")
    elif len(untested) == m:
        verdict = (f"No reading: the design gave no p-value for the negative-control outcome(s) "
                   f"{format_examples(untested)}, so the check says nothing about bias.")
    else:
        verdict = (f"No effect on the negative-control outcome(s){adj_word} (smallest p = {p:.3g} >= {alpha:g}): "
                   "no sign of a bias these outcomes share with the primary one.")
    notes = (("A negative control only reveals biases it shares with the primary outcome; its test has the "
             "size of the design's own test (methods/sensitivity.md)."),)
    if untested:
        notes = (*notes, f"No p-value for negative control(s) {format_examples(untested)} (the fit gave none): "
                         "they are not tested.")
    if others:
        notes = (*notes, f"Units treated at other dates ({format_examples(others)}) are left out of every fit.")
    info = {"intervention": str(start), "treated": list(tr), "controls": controls, "dropped_treated": others}
    return RobustnessResult(check="negative_control", design=design.name, estimate=float(table["estimate"].iloc[0]),
                            p_value=p, alpha=alpha, table=table, verdict=verdict, notes=notes, info=info,
                            references=REFERENCES)
