"""The real-data catalogue: lookup order, sha256 check and the download cache (no network:
a file:// copy stands in for the pinned public URL)."""

from __future__ import annotations

import hashlib

import pytest

import evalint.io.sources as sources
from evalint.datasets.catalog import FileInfo
from evalint.datasets.realdata import RealDataNotFoundError
from evalint.datasets.registry import ChecksumError
from evalint.errors import SpecificationError


def _entry(tmp_path, exact: bool = True):
    origin = tmp_path / "origin" / "tiny.csv"
    origin.parent.mkdir()
    origin.write_text("nhs_trust22_code,date,do_not_meet_criteria_to_reside\nRAJ,2022-04-01,111\n")
    sha = hashlib.sha256(origin.read_bytes()).hexdigest()
    f = FileInfo(name="tiny.csv", sha256=sha, url=origin.as_uri(), url_is_exact=exact,
                 conversion="", rows=None, columns=())
    return sources.SourceInfo(name="demo", description="", folder="demo_folder", reader="read_healthyr",
                              kwargs={}, coverage="", level="trust", licence="OGL v3", citation="",
                              publisher_url="", known_breaks="", files=(f,))


@pytest.fixture
def demo(tmp_path, monkeypatch):
    info = _entry(tmp_path)
    monkeypatch.setattr(sources, "_catalogue", lambda: {"demo": info})
    monkeypatch.setattr(sources, "realdata_dir", lambda: None)
    monkeypatch.setenv("EVALINT_CACHE_DIR", str(tmp_path / "cache"))
    return info


def test_catalogue_entries_are_complete():
    cat = sources._catalogue()
    assert len(cat) >= 15
    for info in cat.values():
        assert info.licence.startswith("Open Government Licence v3.0") and info.citation and info.files
        assert all(len(f.sha256) == 64 for f in info.files)
        assert all(f.url.startswith("https://") for f in info.files if f.url_is_exact)
    with pytest.raises(SpecificationError, match="known sources"):
        sources.source_info("nope")


def test_missing_then_downloaded_then_checked(demo, tmp_path):
    with pytest.raises(RealDataNotFoundError, match="download=True"):
        sources.source_paths("demo")
    (p,) = sources.source_paths("demo", download=True)
    assert p == tmp_path / "cache" / "realdata" / "demo_folder" / "tiny.csv"
    frame = sources.read_source("demo")
    assert frame["do_not_meet_criteria_to_reside"].tolist() == [111.0]
    assert frame.attrs["evalint_source"]["licence"] == "OGL v3"
    p.write_text(p.read_text().replace("111", "112"))
    with pytest.raises(ChecksumError, match="different vintage"):
        sources.source_paths("demo")
