"""The 42 Integrated Care Boards (statutory from 1 July 2022) and their ICS waves.

The table moved to :mod:`evalint.geography.icbs`; this module re-exports :func:`load_icbs`
so that existing imports keep working.
"""

from __future__ import annotations

from evalint.geography.icbs import load_icbs

__all__ = ["load_icbs"]
