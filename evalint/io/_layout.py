"""The typed errors raised when a workbook or CSV is not in a layout a reader knows, or cannot be
read at all (empty, corrupt, another format under the extension)."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from evalint.errors import ColumnNotFoundError, DataError, EmptyDataError, EvalintError

__all__ = ["LayoutNotRecognisedError", "UnreadableFileError", "readable_files"]


class LayoutNotRecognisedError(ColumnNotFoundError):
    """A published file whose sheet, header row or columns are not those of a known layout.

    The message names the sheet, the header row searched for and the columns expected, so the
    user can tell a different publication from a changed layout.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class UnreadableFileError(DataError):
    """A file that cannot be parsed as the CSV or workbook its reader expects (corrupt, truncated
    mid-quote, another format saved under the extension, an unknown text encoding)."""


_F = TypeVar("_F", bound=Callable[..., Any])
#: Modules of the Excel engines whose own exceptions mean "not a readable workbook".
_ENGINE_MODULES = ("python_calamine", "xlrd", "openpyxl")


def _names(src: Any) -> str:
    items = src if isinstance(src, (list, tuple)) else [src]
    names = [Path(s).name for s in items if isinstance(s, (str, Path))]
    if not names:
        return "the input"
    return repr(names[0]) if len(names) == 1 else f"one of {len(names)} files ({', '.join(names[:3])}...)"


def readable_files(reader: _F) -> _F:
    """Turn the parsers' own errors on an unreadable file into typed evalint errors naming it.

    An empty file raises :class:`~evalint.errors.EmptyDataError`; a corrupt or mis-named workbook,
    a CSV broken mid-record or in an unknown encoding raises :class:`UnreadableFileError`. Errors
    the reader raises itself (evalint errors) pass through unchanged.
    """

    @functools.wraps(reader)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return reader(*args, **kwargs)
        except EvalintError:
            raise
        except pd.errors.EmptyDataError:
            raise EmptyDataError(
                f"{reader.__name__}: {_names(args[0] if args else None)} is empty (no header row). "
                "Download the file again or pass the right one.") from None
        except (pd.errors.ParserError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise UnreadableFileError(
                f"{reader.__name__}: {_names(args[0] if args else None)} cannot be read "
                f"({type(exc).__name__}: {exc}). It may be truncated, corrupt, or another format "
                "saved under this extension (a .csv saved as .xlsx); download it again.") from None
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in _ENGINE_MODULES:
                raise
            raise UnreadableFileError(
                f"{reader.__name__}: {_names(args[0] if args else None)} is not a readable workbook "
                f"({type(exc).__name__}: {exc}); download it again, or save the sheet as CSV and "
                "pass the CSV.") from None

    return cast(_F, wrapper)
