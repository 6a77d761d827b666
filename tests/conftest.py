"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The shared reference-data folder (``<id>/<file>`` layout plus published_estimates.csv).

    Found the way :func:`evalint.datasets.reference_dir` finds it: ``$EVALINT_DATA_DIR`` if set,
    else ``shared/reference`` beside the repository checkout. Skips the test when neither exists.
    """
    from evalint.datasets import reference_dir

    found = reference_dir()
    if found is None:
        pytest.skip(
            "reference data not found: set EVALINT_DATA_DIR to a folder laid out as <id>/<file> "
            "(the project's shared/reference), or check out shared/ beside the repository"
        )
    return found


@pytest.fixture(scope="session")
def realdata_root() -> Path:
    """The real NHS data folder (``<source>/<file>``), found by
    :func:`evalint.datasets.realdata.realdata_dir` (``$EVALINT_REALDATA_DIR`` or
    ``shared/realdata`` beside the checkout). Skips the test only when the folder is absent."""
    from evalint.datasets.realdata import realdata_dir

    found = realdata_dir()
    if found is None:
        pytest.skip(
            "real NHS data not found: set EVALINT_REALDATA_DIR or check out shared/realdata "
            "beside the repository"
        )
    return found


@pytest.fixture(autouse=True)
def _realdata_marker_skips_without_files(request: pytest.FixtureRequest) -> None:
    """A test marked ``realdata`` skips when the real-data folder is absent (and only then)."""
    if request.node.get_closest_marker("realdata") is not None:
        request.getfixturevalue("realdata_root")
