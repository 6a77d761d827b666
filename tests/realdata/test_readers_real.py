"""Readers on the real files in shared/realdata, checked against published figures.

Expected numbers are NHS England / ONS totals as recorded in each folder's SOURCE.md (and the
published statistics they quote), never evalint's own output.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.datasets.registry import sha256_file
from evalint.io import (
    aggregate_to_month,
    list_sources,
    read_discharge_sitrep,
    read_source,
    source_info,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name", list_sources()["name"].tolist())
def test_every_registered_file_is_present_with_its_sha256(name, real_source):
    info = source_info(name)
    assert info.licence.startswith("Open Government Licence v3.0")
    for f, p in zip(info.files, real_source(name)):
        assert sha256_file(p) == f.sha256


def test_ae_timeseries_published_england_totals(realdata_root):
    ae = read_source("ae_england_timeseries").set_index("period")
    assert len(ae) == 164
    jan19 = ae.loc[pd.Timestamp("2019-01-01")]
    assert jan19["attendances_type1"] == 1_344_354
    assert jan19["emergency_admissions_total"] == 564_035
    assert ae.loc[pd.Timestamp("2020-04-01"), "emergency_admissions_total"] == 326_581
    assert ae.loc[pd.Timestamp("2024-03-01"), "attendances_type1"] == 1_462_477
    # total = via A&E + other, as published
    assert np.allclose(ae["emergency_admissions_total"],
                       ae["emergency_admissions_via_ae_total"] + ae["other_emergency_admissions"], atol=1)


def test_sitrep_webfile_england_winter_peak(realdata_root):
    d = read_discharge_sitrep(realdata_root / "discharge_sitrep_acute" / "original" / "january2023.xlsx",
                              level="all")
    eng = d.loc[d["level"] == "england"]
    # Jan 2023: delayed patients peaked at 14,789 on 7 Jan (SOURCE.md; DHSC quotes ~14k)
    assert eng["nctr_remaining_patients"].max() == 14_789
    assert eng.loc[eng["nctr_remaining_patients"].idxmax(), "date"] == pd.Timestamp("2023-01-07")
    m = aggregate_to_month(eng)
    assert m["nctr_remaining_patients"].iat[0] == pytest.approx(13_965, abs=0.5)
    # 42 ICBs, 7 regions; trusts sum to England within 0.3% (hospice discharges excluded below England)
    assert d.loc[d["level"] == "icb", "org_code"].nunique() == 42
    assert d.loc[d["level"] == "region", "org_code"].nunique() == 7
    tr = d.loc[d["level"] == "trust"].groupby("date")["nctr_patients"].sum()
    ratio = tr / eng.set_index("date")["nctr_patients"]
    assert ratio.between(0.99, 1.01).all()


def test_sitrep_lost_day_19_june_2022(realdata_root):
    d = read_discharge_sitrep(realdata_root / "discharge_sitrep_acute" / "original" / "june2022.xlsx",
                              level="all")
    assert d.attrs["evalint_io"]["days_without_data"] == ["2022-06-19"]
    eng = d.loc[(d["level"] == "england")].set_index("date")
    assert np.isnan(eng.loc[pd.Timestamp("2022-06-19"), "nctr_patients"])
    assert aggregate_to_month(d.loc[d["level"] == "england"])["days_reported"].iat[0] == 29


def test_discharge_timeseries_agrees_with_webfiles_and_pre_icb_level(realdata_root):
    ts = read_source("discharge_sitrep_timeseries")
    m = aggregate_to_month(ts).set_index("period")["nctr_remaining_patients"]
    assert m[pd.Timestamp("2021-04-01")] == pytest.approx(8_039, abs=0.5)
    assert m[pd.Timestamp("2022-01-01")] == pytest.approx(12_201, abs=0.5)
    web = read_discharge_sitrep(realdata_root / "discharge_sitrep_acute" / "original" / "december2022.xlsx",
                                level="england").set_index("date")["nctr_remaining_patients"]
    both = ts.set_index("date")["nctr_remaining_patients"].reindex(web.index)
    assert (both == web).all()


def test_healthyr_sums_match_england_emergency_admissions(realdata_root):
    ae = read_source("ae_england_timeseries").set_index("period")["emergency_admissions_total"]
    icb = read_source("healthyr_icb_ae")
    assert icb["org_code"].nunique() == 42
    s = icb.groupby("period")["total_emergency_admissions"].sum()
    common = s.index.intersection(ae.index)
    assert len(common) >= 20
    ratio = s[common] / ae[common]
    assert ratio.between(0.998, 1.002).all()
    trust = read_source("healthyr_trust_ae").groupby("period")["total_emergency_admissions"].sum()
    assert trust[pd.Timestamp("2023-01-01")] == pytest.approx(508_778, abs=1)


def test_dtoc_kh03_population_published_totals(realdata_root):
    dtoc = read_source("dtoc_england").set_index("period")
    assert dtoc.loc[pd.Timestamp("2017-02-01"), "delayed_days"] == 186_490
    kh = read_source("kh03_beds").groupby("period")[["beds_available", "beds_occupied"]].sum()
    assert kh.loc[pd.Timestamp("2019-10-01"), "beds_available"] == pytest.approx(128_326, abs=1)
    assert kh.loc[pd.Timestamp("2020-04-01"), "beds_occupied"] == pytest.approx(76_641, abs=1)
    pop = read_source("ons_mye_icb").groupby("year")["population"].sum()
    # ONS mid-year estimates, England
    assert pop.to_dict() == {2017: 55_619_430, 2019: 56_286_961, 2020: 56_550_138}
    bcf = read_source("bcf_2022_23_intermediate_care")
    # 151 boards; the table's own 'Total' row (GBP 624,155,185 bed-based, 579,656,508
    # reablement) equals the sum over boards. (SOURCE.md's GBP 1.248 bn / 1.159 bn sums the
    # Total row in as well: twice the real totals.)
    assert len(bcf) == 151 and "Total" not in set(bcf["org_code"])
    assert bcf["bcf_bed_based_ic_gbp"].sum() == pytest.approx(624_155_185.28, abs=1)
    assert bcf["bcf_reablement_gbp"].sum() == pytest.approx(579_656_507.75, abs=1)


@pytest.mark.slow
def test_all_22_webfiles_match_the_health_foundation_parse(realdata_root):
    """Every organisation-day of the 22 monthly webfiles against the Health Foundation's own
    parse of the same files (daily_nctr_by_org.csv, made by their make_tidy.py): same rows,
    same values; only the lost day's aggregate rows differ (published 0, read as missing)."""
    d = read_source("discharge_sitrep_webfiles")
    hf = pd.read_csv(realdata_root / "discharge_sitrep_acute" / "daily_nctr_by_org.csv")
    assert len(d) == len(hf) == 114_220
    m = d.assign(date=d["date"].dt.strftime("%Y-%m-%d")).merge(hf, on=["date", "org_code"])
    assert len(m) == len(hf)
    for ours, theirs in (("nctr_patients", "nctr"), ("discharged_patients", "discharged"),
                         ("nctr_remaining_patients", "remaining_nctr")):
        both = m[ours].notna() & m[theirs].notna()
        assert (m.loc[both, ours] == m.loc[both, theirs]).all()
        differ = m.loc[m[ours].isna() != m[theirs].isna()]
        assert set(differ["date"]) == {"2022-06-19"} and (differ[theirs] == 0).all()
        assert len(differ) == 50
