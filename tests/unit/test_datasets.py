"""Dataset registry: checksums against SOURCE.md, lookup order, download and mismatch paths.

The expected sha256 values and row counts come from each dataset's SOURCE.md (written when the
files were collected), not from evalint; downloads are served by a local HTTP server only.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import evalint.datasets as ds
from evalint.datasets import registry
from evalint.errors import DataError, SpecificationError

EXPECTED_IDS = {
    "prop99_synthdid", "prop99_adh", "mpdta", "sicily_its", "twfe_few_clusters",
    "nhs_ae_attendances", "ons_weekly_mortality", "published_estimates",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No mirror from the environment, and a fresh empty cache for every test."""
    monkeypatch.delenv(registry.DATA_URL_ENV, raising=False)
    monkeypatch.setenv(registry.CACHE_DIR_ENV, str(tmp_path / "cache"))


@pytest.fixture
def no_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """No local reference folder at all (as on a user's machine): only the cache and downloads."""
    monkeypatch.delenv(registry.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(registry, "_repo_shared_reference", lambda: None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a temp folder; yields (base_url, folder)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _source_md_facts(folder: Path) -> dict[str, tuple[int | None, str]]:
    """file name -> (rows, sha256) as written in SOURCE.md's 'Files' section."""
    text = (folder / "SOURCE.md").read_text(encoding="utf-8")
    facts = {}
    for m in re.finditer(r"^- (\S+): (\d+) rows.*?sha256 ([0-9a-f]{64})", text, flags=re.M):
        facts[m.group(1)] = (int(m.group(2)), m.group(3))
    return facts


# ---------------------------------------------------------------- registry content
def test_list_datasets_lists_every_registered_id() -> None:
    table = ds.list_datasets()
    assert set(table["id"]) == EXPECTED_IDS
    for col in ("id", "description", "files", "rows", "licence", "citation", "local"):
        assert col in table.columns
    assert (table["licence"].str.len() > 10).all()
    assert (table["citation"].str.len() > 10).all()


def test_registry_sha256_and_rows_match_source_md(shared_reference: Path) -> None:
    checked = 0
    for ds_id in EXPECTED_IDS - {"published_estimates"}:
        facts = _source_md_facts(shared_reference / ds_id)
        entry = ds.info(ds_id)
        for name, (rows, sha) in facts.items():
            f = entry.file(name)
            assert f.sha256 == sha, f"{ds_id}/{name}: registry sha differs from SOURCE.md"
            assert f.rows == rows, f"{ds_id}/{name}: registry rows differ from SOURCE.md"
            checked += 1
    # every dataset except the project-made twfe_few_clusters records its sha in SOURCE.md
    assert checked == 7


def test_every_registered_file_matches_its_sha_on_disk(shared_reference: Path) -> None:
    for ds_id in EXPECTED_IDS:
        entry = ds.info(ds_id)
        for f in entry.files:
            p = ds.path(ds_id, f.name, download=False)
            assert p.is_file()
            assert hashlib.sha256(p.read_bytes()).hexdigest() == f.sha256


def test_load_gives_registered_rows_columns_and_dtypes(shared_reference: Path) -> None:
    for ds_id in EXPECTED_IDS:
        for f in ds.info(ds_id).files:
            if not f.is_table:
                continue
            frame = ds.load(ds_id, f.name, download=False)
            assert len(frame) == f.rows
            assert list(frame.columns) == [c.name for c in f.columns]
    mpdta = ds.load("mpdta", download=False)
    assert mpdta["first.treat"].dtype == "int64"
    assert sorted(mpdta["first.treat"].unique()) == [0, 2004, 2006, 2007]
    ae = ds.load("nhs_ae_attendances", download=False)
    assert pd.api.types.is_datetime64_any_dtype(ae["period"])
    assert set(ae["type"]) == {"1", "2", "other"}  # kept as text, not coerced to numbers
    assert ae["period"].min() == pd.Timestamp("2016-04-01")
    assert ae["period"].max() == pd.Timestamp("2019-03-01")
    deaths = ds.load("ons_weekly_mortality", download=False)
    assert deaths["counts"].isna().sum() == 51  # SOURCE/registry: 51 missing counts


def test_load_returns_a_fresh_frame(shared_reference: Path) -> None:
    a = ds.load("sicily_its", download=False)
    a.loc[0, "aces"] = -1
    assert ds.load("sicily_its", download=False).loc[0, "aces"] == 728


def test_unknown_id_lists_the_registered_ids() -> None:
    with pytest.raises(SpecificationError, match="mpdta") as err:
        ds.info("mpdtaa")
    assert "not registered" in str(err.value)
    with pytest.raises(SpecificationError):
        ds.load("no_such_dataset")


def test_unknown_file_lists_the_files() -> None:
    with pytest.raises(SpecificationError, match="predictors_adh_matlab.csv"):
        ds.path("prop99_adh", "nope.csv")


def test_load_refuses_a_script(shared_reference: Path) -> None:
    with pytest.raises(SpecificationError, match="not a table"):
        ds.load("sicily_its", "r_reference.R")


def test_info_prints_files_and_columns() -> None:
    text = str(ds.info("mpdta"))
    assert "first.treat" in text and "Callaway" in text and "GPL-3" in text


# ---------------------------------------------------------------- lookup order
def test_data_dir_env_is_searched_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        shared_reference: Path) -> None:
    data_dir = tmp_path / "mydata"
    (data_dir / "sicily_its").mkdir(parents=True)
    shutil.copy(shared_reference / "sicily_its" / "data.csv", data_dir / "sicily_its" / "data.csv")
    monkeypatch.setattr(registry, "_repo_shared_reference", lambda: shared_reference)
    monkeypatch.setenv(registry.DATA_DIR_ENV, str(data_dir))
    assert ds.path("sicily_its") == data_dir / "sicily_its" / "data.csv"
    assert ds.reference_dir() == data_dir
    # a file missing from EVALINT_DATA_DIR falls through to the next location
    assert ds.path("mpdta", download=False).is_file()


def test_local_file_with_wrong_sha_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          shared_reference: Path) -> None:
    data_dir = tmp_path / "mydata"
    (data_dir / "sicily_its").mkdir(parents=True)
    original = (shared_reference / "sicily_its" / "data.csv").read_bytes()
    bad = data_dir / "sicily_its" / "data.csv"
    bad.write_bytes(original.replace(b"\n", b"\r\n"))  # same values, other bytes
    monkeypatch.setenv(registry.DATA_DIR_ENV, str(data_dir))
    got = hashlib.sha256(bad.read_bytes()).hexdigest()
    with pytest.raises(ds.ChecksumError) as err:
        ds.load("sicily_its")
    msg = str(err.value)
    assert got in msg and ds.info("sicily_its").default_file.sha256 in msg and str(bad) in msg
    assert isinstance(err.value, DataError)


def test_not_found_without_download(no_shared: None) -> None:
    with pytest.raises(ds.DatasetNotFoundError, match="EVALINT_DATA_DIR"):
        ds.path("mpdta", download=False)


def test_no_exact_public_copy_explains_the_fix(no_shared: None) -> None:
    # mpdta's origin is an .rda file: there is nothing to download byte-for-byte
    with pytest.raises(ds.DatasetNotFoundError) as err:
        ds.path("mpdta")
    msg = str(err.value)
    assert "mpdta.rda" in msg and "EVALINT_DATA_URL" in msg and "EVALINT_DATA_DIR" in msg


# ---------------------------------------------------------------- download
def test_download_from_local_mirror_verifies_and_caches(
        no_shared: None, http_dir: tuple[str, Path], shared_reference: Path,
        tmp_path: Path) -> None:
    base, served = http_dir
    (served / "sicily_its").mkdir()
    shutil.copy(shared_reference / "sicily_its" / "data.csv", served / "sicily_its" / "data.csv")
    p = ds.path("sicily_its", base_url=base)
    assert p == tmp_path / "cache" / "sicily_its" / "data.csv"
    assert hashlib.sha256(p.read_bytes()).hexdigest() == ds.info("sicily_its").default_file.sha256
    # now cached: found without the server
    (served / "sicily_its" / "data.csv").unlink()
    frame = ds.load("sicily_its", download=False)
    assert len(frame) == 59 and frame["aces"].iloc[0] == 728


def test_download_uses_the_mirror_env_var(monkeypatch: pytest.MonkeyPatch, no_shared: None,
                                          http_dir: tuple[str, Path], shared_reference: Path) -> None:
    base, served = http_dir
    shutil.copy(shared_reference / "published_estimates.csv", served / "published_estimates.csv")
    monkeypatch.setenv(registry.DATA_URL_ENV, base + "/")
    table = ds.load("published_estimates")  # folder "." -> served at the mirror root
    assert len(table) == 191


def test_download_with_wrong_bytes_is_deleted_and_raises(
        no_shared: None, http_dir: tuple[str, Path], shared_reference: Path,
        tmp_path: Path) -> None:
    base, served = http_dir
    (served / "sicily_its").mkdir()
    tampered = (shared_reference / "sicily_its" / "data.csv").read_bytes().replace(b"728", b"729")
    (served / "sicily_its" / "data.csv").write_bytes(tampered)
    got = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(ds.ChecksumError) as err:
        ds.download("sicily_its", base_url=base)
    msg = str(err.value)
    assert got in msg and ds.info("sicily_its").default_file.sha256 in msg and "deleted" in msg
    cache_folder = tmp_path / "cache" / "sicily_its"
    assert not any(cache_folder.iterdir())  # neither the file nor a partial download is left


def test_download_http_error_is_clear(no_shared: None, http_dir: tuple[str, Path]) -> None:
    base, _ = http_dir
    with pytest.raises(ds.DatasetNotFoundError, match="404"):
        ds.download("mpdta", base_url=base)


def test_download_to_explicit_cache_and_force(http_dir: tuple[str, Path], shared_reference: Path,
                                              tmp_path: Path) -> None:
    base, served = http_dir
    (served / "mpdta").mkdir()
    shutil.copy(shared_reference / "mpdta" / "data.csv", served / "mpdta" / "data.csv")
    target = tmp_path / "elsewhere"
    p = ds.download("mpdta", base_url=base, cache=target)
    assert p == target / "mpdta" / "data.csv"
    p.write_bytes(b"corrupted")
    with pytest.raises(ds.ChecksumError, match="corrupted|sha256"):
        ds.download("mpdta", base_url=base, cache=target)  # cached copy is checked, not trusted
    p2 = ds.download("mpdta", base_url=base, cache=target, force=True)
    assert ds.sha256_file(p2) == ds.info("mpdta").default_file.sha256


def test_data_dir_env_that_is_not_a_folder_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       shared_reference: Path) -> None:
    # a typo must not fall through to shared/reference or the cache without a word
    monkeypatch.setattr(registry, "_repo_shared_reference", lambda: shared_reference)
    monkeypatch.setenv(registry.DATA_DIR_ENV, str(tmp_path / "mydata_typo"))
    with pytest.raises(ds.DatasetNotFoundError, match=r"EVALINT_DATA_DIR is set to .*mydata_typo.*not a folder"):
        ds.path("sicily_its")
    with pytest.raises(ds.DatasetNotFoundError, match="not a folder"):
        ds.reference_dir()
    monkeypatch.setenv(registry.DATA_DIR_ENV, "")  # empty is unset
    assert ds.path("sicily_its") == shared_reference / "sicily_its" / "data.csv"
