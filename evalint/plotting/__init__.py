"""Figures for results: dispatch on ``EffectResult.plot_kind``; matplotlib imported lazily."""

from evalint.plotting.base import plot_result, register_plot, shade_flags
from evalint.results.plots import register_result_plotter

# EffectResult.plot() draws through this registry (results cannot import plotting)
register_result_plotter(plot_result)

__all__ = ["plot_result", "register_plot", "shade_flags"]
