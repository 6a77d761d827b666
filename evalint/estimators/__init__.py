"""Estimator families: its, did, synth. See :mod:`evalint.estimators.base`."""

from evalint.estimators.base import ESTIMATORS, Estimator, get_estimator, register_estimator

__all__ = ["ESTIMATORS", "Estimator", "get_estimator", "register_estimator"]
