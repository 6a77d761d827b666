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
