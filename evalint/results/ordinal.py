"""A result of a fit on an ordinal time axis, shown in the user's period numbers.

Estimators run on the Periods that hold an ordinal axis internally
(:mod:`evalint.data.ordinal`); :func:`relabel_ordinal` turns every period a user reads in
the result (its tables, its intervention, its display lines) back into the integers the
data gave. Results of calendar panels are returned as they are.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from evalint.data.ordinal import relabel_frame, relabel_text, relabel_value

__all__ = ["relabel_ordinal"]


def relabel_ordinal(result: Any, panel: Any) -> Any:
    """``result`` with periods as period numbers when ``panel`` has an ordinal time axis.

    Anything that is not an :class:`~evalint.results.effect.EffectResult` (or a panel of
    calendar time) is returned unchanged. The family ``state`` keeps the internal Periods:
    code reads it, users do not.
    """
    from evalint.results.effect import EffectResult

    if not getattr(panel, "is_ordinal", False) or not isinstance(result, EffectResult):
        return result
    tables = {k: relabel_frame(v) for k, v in result.tables.items()}
    diagnostics = tuple(dataclasses.replace(d, text=relabel_text(d.text)) if isinstance(d.text, str) else d
                        for d in result.diagnostics)
    flags = tuple(dataclasses.replace(f, message=relabel_text(f.message)) for f in result.flags)
    return dataclasses.replace(
        result, effects=relabel_frame(result.effects), coefficients=relabel_frame(result.coefficients),
        series=relabel_frame(result.series), tables=tables, intervention=relabel_value(result.intervention),
        info={k: relabel_value(v) for k, v in result.info.items()}, estimand=relabel_text(result.estimand),
        term=relabel_text(result.term), diagnostics=diagnostics, flags=flags,
        provenance=dataclasses.replace(result.provenance, spec=relabel_value(dict(result.provenance.spec))))
