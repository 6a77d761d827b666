"""Checks every estimator runs on what it was given, before any fitting.

:func:`require_panel` turns a DataFrame (or anything else) passed where a
:class:`~evalint.data.panel.Panel` is expected into an error that shows the
``Panel.from_frame(...)`` call; :func:`require_outcome` checks ``outcome=`` names one of the
panel's outcomes and that a panel with several outcomes is not silently reduced to its first.
"""

from __future__ import annotations

from typing import Any

from evalint.errors import InvalidValueError, OutcomeNotFoundError, SpecificationError, format_examples

__all__ = ["require_panel", "require_outcome", "require_varying"]


def require_panel(obj: Any, where: str) -> None:
    """Raise SpecificationError unless ``obj`` is a Panel (``where``: the function called)."""
    from evalint.data.panel import Panel

    if isinstance(obj, Panel):
        return
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        cols = format_examples([str(c) for c in obj.columns], limit=8)
        raise SpecificationError(
            f"{where} expects an evalint Panel, not a pandas DataFrame. Build the panel once and "
            "pass it: panel = evalint.Panel.from_frame(df, unit='<unit column>', time='<time column>', "
            f"outcome='<outcome column>', cohort='<first treated period column>'); then "
            f"{where}(panel, ...). The frame's columns: {cols}."
        )
    raise SpecificationError(
        f"{where} expects an evalint Panel; got {type(obj).__name__}. Build one with "
        "evalint.Panel.from_frame(df, unit=..., time=..., outcome=...)."
    )


def require_outcome(panel: Any, outcome: Any, where: str, comparison_outcome: Any = None) -> None:
    """Check ``outcome`` against ``panel.outcomes``.

    ``outcome=None`` is allowed on a one-outcome panel, or on one whose primary outcome was
    chosen with :meth:`Panel.with_outcome`; on any other multi-outcome panel it raises,
    listing the choices, instead of silently using the first.
    """
    choices = ", ".join(repr(o) for o in panel.outcomes)
    if outcome is None:
        left = [o for o in panel.outcomes if o != comparison_outcome]
        if len(left) > 1 and not getattr(panel, "_primary_chosen", False):
            raise SpecificationError(
                f"{where}: this panel has {len(panel.outcomes)} outcomes ({choices}); say which one to "
                f"estimate with outcome=<one of them> (or panel.with_outcome(...)). evalint does not "
                "silently use the first."
            )
        return
    if not isinstance(outcome, str) and not hasattr(outcome, "__hash__"):
        raise SpecificationError(f"{where}: outcome= must be a column name; got {type(outcome).__name__}.")
    if outcome not in panel.outcomes:
        extra = (f" {outcome!r} is a column of the panel's data but not an outcome; rebuild the panel "
                 "with it in Panel.from_frame(outcome=[...]).") if outcome in panel.data.columns else ""
        raise OutcomeNotFoundError(
            f"{where}: outcome={outcome!r} is not an outcome of this panel; its outcomes are {choices}.{extra}"
        )


def require_varying(panel: Any, outcome: str | None, where: str) -> None:
    """Raise InvalidValueError when ``outcome`` takes one value in every row of the panel.

    A constant outcome leaves nothing to estimate: the effect is 0 by construction and the
    designs report either SE 0 and p = 0 (a point interval) or NaN without a word.
    """
    col = outcome if outcome is not None else panel.outcome
    values = panel.data[col]
    if len(values) > 1 and _one_value(values):
        raise InvalidValueError(
            f"{where}: outcome {col!r} is {values.iloc[0]:g} in every one of its {len(values)} rows; a constant "
            "outcome carries no information about an effect (any estimate would be 0 with a false zero-width "
            "interval). Check the column (a failed join or a fill value?) or drop this outcome."
        )


def _one_value(values: Any) -> bool:
    """Whether the non-missing values are all equal (and there is one): min == max for numbers,
    which needs no hash table of distinct values as ``nunique`` does."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        v = v[~np.isnan(v)] if np.isnan(v).any() else v
        return len(v) > 0 and bool(v.min() == v.max())
    return bool(values.nunique(dropna=True) == 1)
