"""Where the real NHS England / ONS files live: one lookup used by readers, geography,
tests and the ``vignettes/real_*.py`` scripts.

The folder is laid out as ``<folder>/<source>/<file>`` (e.g.
``healthyr_nhse_uec/england_trust_accidents_emergency.csv``), each source folder with a
``SOURCE.md`` giving repository, commit, licence, coverage and sha256. It is found, in order,

1. in ``$EVALINT_REALDATA_DIR`` (when set, it must exist: a typo is an error, not a silent miss);
2. in ``shared/realdata`` beside a source checkout (``<repo_root>/../shared/realdata``), looking
   from this package's checkout and from the working directory upwards.

The files are not shipped with evalint (they are published statistics under the Open
Government Licence v3.0; see each SOURCE.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from evalint.datasets.registry import _checkout_roots
from evalint.errors import DataError

__all__ = ["REALDATA_DIR_ENV", "RealDataNotFoundError", "realdata_dir", "realdata_path"]

#: Environment variable naming the real-data folder (``<dir>/<source>/<file>``).
REALDATA_DIR_ENV = "EVALINT_REALDATA_DIR"


class RealDataNotFoundError(DataError):
    """The real-data folder, or a file expected in it, is not available."""


def realdata_dir(required: bool = False) -> Path | None:
    """The real-data folder: ``$EVALINT_REALDATA_DIR`` if set, else ``shared/realdata`` beside
    a source checkout, else ``None`` (or :class:`RealDataNotFoundError` when ``required``).

    Parameters
    ----------
    required : bool, default False
        Raise instead of returning ``None`` when no folder is found.

    Returns
    -------
    pathlib.Path or None
    """
    value = os.environ.get(REALDATA_DIR_ENV, "").strip()
    if value:
        env = Path(value).expanduser()
        if env.is_dir():
            return env
        raise RealDataNotFoundError(
            f"${REALDATA_DIR_ENV} is set to {value!r}, which is not a folder. Point it at the "
            "folder holding the real-data sources (e.g. shared/realdata), or unset it."
        )
    for repo_root in _checkout_roots():
        shared = repo_root.parent / "shared" / "realdata"
        if shared.is_dir():
            return shared
    if required:
        raise RealDataNotFoundError(
            "real NHS data folder not found: set $EVALINT_REALDATA_DIR to a folder laid out as "
            "<source>/<file> (the project's shared/realdata), or check out shared/ beside the "
            "repository."
        )
    return None


def realdata_path(*parts: str) -> Path:
    """The path of one file in the real-data folder, e.g.
    ``realdata_path("lookups_trust_icb_la", "icb22_codes.csv")``.

    Raises
    ------
    RealDataNotFoundError
        When the folder or the file is missing (the message names both).
    """
    root = realdata_dir(required=True)
    assert root is not None
    target = root.joinpath(*parts)
    if not target.exists():
        raise RealDataNotFoundError(
            f"{'/'.join(parts)} not found in the real-data folder {root}. Check the file name "
            f"against {root / parts[0] / 'SOURCE.md'} or set ${REALDATA_DIR_ENV}."
        )
    return target
