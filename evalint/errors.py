"""Errors and warnings raised by evalint.

Every error a user can trigger with bad input is an :class:`EvalintError`, which is
also a :class:`ValueError`, so ``except ValueError`` keeps working. Messages follow
one pattern: *what* is at fault (column, unit, rows), the *rule* broken, what was
*seen*, and the *fix*.

The tree::

    EvalintError (ValueError)
    ├── DataError                  the data break a rule
    │   ├── ColumnNotFoundError
    │   │   └── OutcomeNotFoundError   (also a SpecificationError) outcome= not an outcome
    │   ├── EmptyDataError
    │   ├── DuplicateRowsError
    │   ├── MissingValuesError
    │   ├── NonNumericError
    │   ├── TimeParseError         (includes mixed frequencies)
    │   ├── GapError               a unit's series skips periods
    │   ├── InvalidValueError      negative counts, non-positive LOS/population, ...
    │   ├── TreatmentError         non-absorbing or non-binary treatment, bad cohorts
    │   └── UnbalancedPanelError   an estimator needing balance met missing cells
    ├── SpecificationError         arguments that do not fit together
    │   └── ConfigError            a TOML configuration key of the wrong name or type
    ├── OutputError                an output path that cannot be written (file, read-only, not empty)
    ├── InferenceError             inference that cannot be computed as asked
    └── ReplicationError           a replication target that cannot be run

Warnings derive from :class:`EvalintWarning` (a ``UserWarning``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "EvalintError",
    "DataError",
    "ColumnNotFoundError",
    "OutcomeNotFoundError",
    "EmptyDataError",
    "DuplicateRowsError",
    "MissingValuesError",
    "NonNumericError",
    "TimeParseError",
    "GapError",
    "InvalidValueError",
    "TreatmentError",
    "UnbalancedPanelError",
    "SpecificationError",
    "ConfigError",
    "OutputError",
    "InferenceError",
    "ReplicationError",
    "EvalintWarning",
    "SettingDeprecationWarning",
    "warn_deprecated_setting",
    "DroppedRowsWarning",
    "FewClustersWarning",
    "FewTreatedWarning",
    "ConfoundingWarning",
    "UnbalancedPanelWarning",
    "ShortSeriesWarning",
    "DiagnosticWarning",
    "format_examples",
    "plain",
]


class EvalintError(ValueError):
    """Base class of every error evalint raises for bad input or specification."""


class DataError(EvalintError):
    """The data break a rule evalint needs to give a correct answer."""


class ColumnNotFoundError(DataError, KeyError):
    """A named column is not in the frame."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class EmptyDataError(DataError):
    """The frame (or what is left of it) has no rows."""


class DuplicateRowsError(DataError):
    """More than one row for the same unit and period."""


class MissingValuesError(DataError):
    """Missing (NaN/None) values where a value is required."""


class NonNumericError(DataError):
    """A column that must be numeric holds non-numeric values."""


class TimeParseError(DataError):
    """Time values that cannot be parsed, or that mix frequencies."""


class GapError(DataError):
    """A unit's series skips periods inside its own span."""


class InvalidValueError(DataError):
    """Values outside their allowed range (negative counts, zero population, ...)."""


class TreatmentError(DataError):
    """Treatment or cohort values that do not describe an absorbing 0/1 treatment."""


class UnbalancedPanelError(DataError):
    """An estimator that needs a balanced panel met missing unit-period cells."""


class SpecificationError(EvalintError):
    """Arguments that are invalid or do not fit together (or do not fit the data)."""


class OutcomeNotFoundError(ColumnNotFoundError, SpecificationError):
    """``outcome=`` names a column that is not one of the panel's outcomes."""


class ConfigError(SpecificationError):
    """A configuration file (TOML) with an unknown key, a key of the wrong type, or bad encoding."""


class OutputError(EvalintError):
    """An output path that cannot be written: a file where a folder is needed, no write
    permission, or a non-empty folder without ``overwrite``."""


class InferenceError(EvalintError):
    """Inference that cannot be computed as requested."""


class ReplicationError(EvalintError):
    """A replication target that cannot be loaded or run."""


class EvalintWarning(UserWarning):
    """Base class of evalint's warnings."""


class DroppedRowsWarning(EvalintWarning):
    """Rows or units were dropped; the message gives the count and the reason."""


class FewClustersWarning(EvalintWarning):
    """Too few clusters for cluster-robust asymptotics to be trusted."""


class FewTreatedWarning(FewClustersWarning):
    """A DiD with at most five treated units (clusters) and an asymptotic or bootstrap
    interval; the message names ``inference=ConleyTaber()``."""


class ConfoundingWarning(EvalintWarning):
    """A concurrent policy event threatens the evaluation."""


class UnbalancedPanelWarning(EvalintWarning):
    """The panel is unbalanced; the message says which cells are used."""


class ShortSeriesWarning(EvalintWarning):
    """A time series is too short for the model asked of it (pre-period points per coefficient)."""


class DiagnosticWarning(EvalintWarning):
    """A model diagnostic failed (autocorrelation, overdispersion, poor pre-fit...)."""


class SettingDeprecationWarning(EvalintWarning, DeprecationWarning):
    """A setting that duplicates the inference spec (or a seed nothing draws with) was used; it still
    works for one release. The message names the replacement (``inference=...``)."""


def _user_stacklevel() -> int:
    """The ``stacklevel`` (counted from the caller of this function's caller) of the first frame
    outside evalint: frames in the package and the ``__init__`` a dataclass generates are skipped,
    so a warning points at the user's line however many wrappers lie between."""
    import os
    import sys

    pkg = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(2)
    level = 2
    while frame is not None:
        code = frame.f_code
        if not (code.co_filename.startswith(pkg) or (code.co_filename == "<string>" and code.co_name == "__init__")):
            return level
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn_deprecated_setting(old: str, new: str, stacklevel: int | None = None) -> None:
    """Warn that ``old`` (a setting as the user wrote it) is deprecated in favour of ``new``.

    ``stacklevel=None`` (default) points the warning at the first line outside evalint (the
    user's call, through wrappers such as ``evalint.its(...)`` or ``synthetic_did(...)``).
    """
    import warnings

    level = _user_stacklevel() if stacklevel is None else stacklevel
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new} instead.",
                  SettingDeprecationWarning, stacklevel=level)


def plain(value: Any) -> Any:
    """A value as a user wrote it, for messages: numpy scalars as Python values (``8001``,
    not ``np.int64(8001)``), timestamps at midnight as dates (``2022-04-01``)."""
    if hasattr(value, "item") and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return value.item()
    if type(value).__name__ == "Timestamp" and value == value.normalize():
        return str(value.date())
    return value


def format_examples(items: Iterable[Any], limit: int = 5) -> str:
    """Format the first ``limit`` items of ``items`` for an error message.

    Returns e.g. ``"'a', 'b', 'c' (and 7 more)"``.
    """
    items = list(items)
    items = [plain(i) for i in items]
    shown = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in items[:limit])
    extra = len(items) - limit
    return shown + (f" (and {extra} more)" if extra > 0 else "")


def column_not_found(column: str, role: str, available: Sequence[Any]) -> ColumnNotFoundError:
    """Build the standard error for a missing column, listing those that exist."""
    return ColumnNotFoundError(
        f"{role} column {column!r} is not in the data. "
        f"Columns that exist: {format_examples([str(c) for c in available], limit=30)}. "
        f"Pass {role}=<one of these>."
    )
