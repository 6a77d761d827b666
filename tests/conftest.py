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


@pytest.fixture(scope="session")
def real_source(realdata_root: Path):
    """``real_source(name)`` returns the local paths of real-data source ``name``.

    Sources whose folder ships in ``shared/realdata`` must be complete there (a missing file
    fails). Sources registered for download only (their folder is absent from the real-data
    folder, e.g. the monthly A&E workbooks and UEC bed sitreps pinned to public copies) skip when
    they are not in the download cache either, naming how to fetch them.
    """
    from evalint.datasets.realdata import RealDataNotFoundError
    from evalint.io import source_info, source_paths

    def _paths(name: str) -> list[Path]:
        try:
            return source_paths(name)
        except RealDataNotFoundError as err:
            if (realdata_root / source_info(name).folder).is_dir():
                raise
            pytest.skip(f"download-only real-data source {name!r} is not on this machine "
                        f"(fetch it once with evalint.io.read_source({name!r}, download=True)): {err}")

    return _paths


@pytest.fixture(autouse=True)
def _realdata_marker_skips_without_files(request: pytest.FixtureRequest) -> None:
    """A test marked ``realdata`` skips when the real-data folder is absent (and only then)."""
    if request.node.get_closest_marker("realdata") is not None:
        request.getfixturevalue("realdata_root")
