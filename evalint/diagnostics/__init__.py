"""Diagnostics: the Check protocol's result type and flags."""

from evalint.diagnostics.base import CheckResult, Flag, flags_frame

__all__ = ["CheckResult", "Flag", "flags_frame"]
