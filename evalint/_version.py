"""The installed evalint version, in one module below every other layer.

Modules that record the version (result and evaluation provenance, the command line) import it
from here rather than from the package root, so no module imports upward into ``evalint``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _metadata_version

try:
    __version__: str = _metadata_version("evalint")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0"

__all__ = ["__version__"]
