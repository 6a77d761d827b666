"""The synthetic HES-like generator: exact size, determinism, calibration to magnitudes.md."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pytest

from evalint.errors import SpecificationError
from evalint.records import simulate_episodes


def _read(path) -> pd.DataFrame:
    t = ds.dataset(str(path), format="parquet", partitioning="hive").to_table()
    df = t.to_pandas(date_as_object=False)
    return df.sort_values(["provspno", "epiorder"]).reset_index(drop=True)


def _spells(df: pd.DataFrame) -> pd.DataFrame:
    first = df[df["epiorder"] == 1].set_index("provspno")
    sp = pd.DataFrame({
        "admit": first["admidate"], "disch": df.groupby("provspno")["disdate"].max(),
        "ready": df.groupby("provspno")["disreadydate"].max(),
        "method": first["admimeth"].astype(str), "icb": first["resicb"].astype(str),
        "patient": first["hesid"]})
    sp["los"] = (sp["disch"] - sp["admit"]).dt.days
    return sp


def test_exact_size_and_determinism(tmp_path):
    kw = {"months": 12, "effect_date": "2019-07-01"}
    a = simulate_episodes(20_000, seed=5, path=tmp_path / "a", **kw)
    simulate_episodes(20_000, seed=5, path=tmp_path / "b", **kw)
    simulate_episodes(20_000, seed=6, path=tmp_path / "c", **kw)
    da, db, dc = _read(tmp_path / "a"), _read(tmp_path / "b"), _read(tmp_path / "c")
    assert len(da) == 20_000 == a.n_episodes
    pd.testing.assert_frame_equal(da, db)
    assert not da["admidate"].equals(dc["admidate"])
    truth = json.loads((tmp_path / "a" / "_truth.json").read_text())
    assert truth["treated_icbs"] == list(a.treated_icbs) and len(a.treated_icbs) == 6
    assert len(a.icbs) == 42 and set(da["resicb"].astype(str)) <= set(a.icbs)
    # hive partitions by admission year
    assert sorted(p.name for p in (tmp_path / "a").iterdir() if p.is_dir()) == ["year=2019"]


def test_clean_data_breaks_no_rule(small_extract):
    df = _read(small_extract.path)
    sp = _spells(df)
    assert (sp["los"] >= 0).all()
    s = sp.sort_values(["patient", "admit"])
    prev = s.groupby("patient")["disch"].shift(1)
    assert not (s["admit"] < prev).any()  # no overlapping spells for one patient
    assert (sp["ready"].isna() | ((sp["ready"] <= sp["disch"]) & (sp["ready"] >= sp["admit"]))).all()


def test_calibration_against_published_magnitudes(tmp_path):
    """magnitudes.md: emergency share of admissions ~40% (HES 2019-20 FAEs: 574k emergency vs
    813k elective at the October peak); mean LOS 7.9 days emergency, 5.2 elective (Health
    Foundation, 2019); winter peak of emergency admissions of a few per cent."""
    simulate_episodes(120_000, seed=2, path=tmp_path / "h", months=24, n_treated=0)
    sp = _spells(_read(tmp_path / "h"))
    em = sp["method"].str.startswith("2")
    el = sp["method"].str.startswith("1")
    assert 0.35 <= em.mean() <= 0.45
    assert sp.loc[em, "los"].mean() == pytest.approx(7.9, abs=0.8)
    assert sp.loc[el, "los"].mean() == pytest.approx(5.2, abs=0.8)
    winter = sp.loc[em & sp["admit"].dt.month.isin([12, 1])].shape[0] / 62
    summer = sp.loc[em & sp["admit"].dt.month.isin([6, 7])].shape[0] / 61
    assert 1.03 <= winter / summer <= 1.25
    # delayed discharges concentrate in emergency spells
    delayed = sp["ready"].notna()
    assert delayed[em].mean() > 3 * delayed[el].mean()


def test_bad_arguments(tmp_path):
    with pytest.raises(SpecificationError, match="n_episodes"):
        simulate_episodes(0, seed=1, path=tmp_path / "x")
    with pytest.raises(SpecificationError, match="effect"):
        simulate_episodes(10, seed=1, path=tmp_path / "x", effect=0.5)


@pytest.mark.parametrize("kw,match", [
    ({"months": 0}, "months must be"),  # looped for ever before: no admission day to draw
    ({"months": -3}, "months must be"),
    ({"start": "bad"}, "start='bad' is not a date"),
    # the default effect date 2021-04-01 is after a 12-month window from 2019-01-01: the truth
    # written claimed a -10% effect in 6 ICBs that no file held
    ({"months": 12}, "outside the admission window 2019-01-01 to 2019-12-31"),
    ({"effect_date": "2018-06-01"}, "outside the admission window"),
    ({"n_treated": 50}, "n_treated must be a whole number of ICBs from 0 to 42"),  # was 42
    ({"n_treated": -1}, "n_treated"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_bad_window_and_counts_are_refused(tmp_path, kw, match):
    with pytest.raises(SpecificationError, match=match):
        simulate_episodes(10, seed=1, path=tmp_path / "x", **kw)
    assert not (tmp_path / "x").exists()  # refused before anything is written


def test_no_treated_icbs_need_no_effect_date_in_the_window(tmp_path):
    sim = simulate_episodes(500, seed=1, path=tmp_path / "x", months=12, n_treated=0)
    assert sim.treated_icbs == () and sim.n_episodes == 500
