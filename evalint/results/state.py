"""The typed per-family state an :class:`~evalint.results.EffectResult` carries.

A result has two kinds of detail beyond its numbers and tables:

* **display** (``EffectResult.info``): one line each in the summary ("Impact model",
  "Pearson dispersion", "cs_state"...), strings or plain numbers, for people to read;
  no code reads them back.
* **state** (``EffectResult.state``): what downstream code reads from a fitted result
  (the Callaway-Sant'Anna influence functions and cells, the synthetic control's V and
  donor weights, the synthetic DiD's unit and time weights, the event study's reference
  period...). One frozen dataclass per family, a subclass of :class:`FamilyState`, read
  through attributes.

A family adds its state by subclassing :class:`FamilyState` in its own package (a frozen
dataclass, e.g. ``evalint.estimators.synth.state.SDIDState``) and passing ``state=`` to
:func:`~evalint.results.make_result`; readers ask for it with
:meth:`EffectResult.state_as(SDIDState) <evalint.results.EffectResult.state_as>`, which
names the result's method when it is of another family.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FamilyState"]


@dataclass(frozen=True, eq=False)
class FamilyState:
    """Base of every family's result state (frozen; compared by identity).

    Subclasses are frozen dataclasses holding what downstream code reads from a fitted
    result. :meth:`reference_label` is the one question every family answers (``None`` when
    its estimates have no reference period): the event-study figure labels its axis with it.
    """

    def reference_label(self) -> object | None:
        """The period effects are measured against, for display (``None``: not applicable)."""
        return None
