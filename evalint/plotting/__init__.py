"""Figures for results: dispatch on ``EffectResult.plot_kind``; matplotlib imported lazily."""

from evalint.plotting.base import plot_result, register_plot, shade_flags

__all__ = ["plot_result", "register_plot", "shade_flags"]
