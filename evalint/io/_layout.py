"""The typed error raised when a workbook or CSV is not in a layout a reader knows."""

from __future__ import annotations

from evalint.errors import ColumnNotFoundError

__all__ = ["LayoutNotRecognisedError"]


class LayoutNotRecognisedError(ColumnNotFoundError):
    """A published file whose sheet, header row or columns are not those of a known layout.

    The message names the sheet, the header row searched for and the columns expected, so the
    user can tell a different publication from a changed layout.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""
