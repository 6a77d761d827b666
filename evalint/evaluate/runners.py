"""Run one design on one outcome for :func:`evalint.evaluate`, and put its result on the common scale.

The designs themselves are plug-ins (:mod:`evalint.evaluate.registry`, the built-in ones in
:mod:`evalint.evaluate.plugins`): :func:`_fit` checks the outcome varies and calls the chosen
variant's ``run`` once (the user-input checks of every estimator ran once, at the call);
:func:`_scaled` calls its ``scale``. The orchestration is in :mod:`evalint.evaluate.core`.
"""

from __future__ import annotations

from typing import Any

from evalint.errors import SpecificationError
from evalint.evaluate.context import Context
from evalint.evaluate.registry import DesignPlan, Variant, get_variant
from evalint.evaluate.scale import CellTotals, ScaledEffect, ScaleSpec

__all__: list[str] = []


def _variant(key: str) -> Variant:
    v = get_variant(key)
    if v is None:
        raise SpecificationError(f"no registered design runs {key!r} (was its design unregistered?).")
    return v


def _fit(plan: DesignPlan, ctx: Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.data.guards import require_varying
    from evalint.estimators.base import trusted_fits

    variant = _variant(plan.key)
    require_varying(ctx.panel, outcome, plan.label)
    with trusted_fits():  # evaluate() names each outcome itself; the user-input checks ran once
        return variant.run(ctx, outcome, plan)


def _scaled(design: str, result: Any, ctx: Context, outcome: str, totals: CellTotals, spec: ScaleSpec
            ) -> ScaledEffect:
    return _variant(design).scale(result, ctx, outcome, totals, spec)
