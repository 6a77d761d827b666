"""UEC bed sitrep reader (:func:`evalint.io.read_uec_beds_sitrep`) on the published CSV layout.

The fixture is a verbatim extract of NHS England's
``202501-January-2025-beds-sitrep-data-FINAL-revised.csv`` ("Critical care and General & Acute
Beds - Urgent and Emergency Care Daily Situation Reports", January 2025, copy in
emvolz/NBPMscape@74d731a, data/nhs_trust_data/): its header row, the England, North East and
Yorkshire region, South Yorkshire ICB and South Yorkshire trust rows of three metrics, and the
file's trailing blank rows. Asserted numbers are the published ones in those rows.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint.errors import DuplicateRowsError
from evalint.io import LayoutNotRecognisedError, read_uec_beds_sitrep

EXTRACT = (
    "﻿Period,Level,Region,ICB,Org Code,Org Name,Metric,Type,Value\n"
    "01/01/2025,National,[z],[z],ENG,England,G&A beds available,Type 1,101862\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,G&A beds available,Type 1,18054\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "G&A beds available,Type 1,3414\n"
    "01/01/2025,National,[z],[z],ENG,England,G&A beds available,All Type,103578\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,G&A beds available,All Type,18054\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "G&A beds available,All Type,3414\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RCU,"
        "Sheffield Children's NHS Foundation Trust,G&A beds available,Type 1,152\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFF,"
        "Barnsley Hospital NHS Foundation Trust,G&A beds available,Type 1,485\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFR,"
        "The Rotherham NHS Foundation Trust,G&A beds available,Type 1,474\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RHQ,"
        "Sheffield Teaching Hospitals NHS Foundation Trust,G&A beds available,Type 1,1560\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RP5,"
        "Doncaster and Bassetlaw Teaching Hospitals NHS Foundation Trust,G&A beds available,Type 1,742\n"
    "01/01/2025,National,[z],[z],ENG,England,G&A beds occupied,Type 1,95995\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,G&A beds occupied,Type 1,16854\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "G&A beds occupied,Type 1,3204\n"
    "01/01/2025,National,[z],[z],ENG,England,G&A beds occupied,All Type,97398\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,G&A beds occupied,All Type,16854\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "G&A beds occupied,All Type,3204\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RCU,"
        "Sheffield Children's NHS Foundation Trust,G&A beds occupied,Type 1,91\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFF,"
        "Barnsley Hospital NHS Foundation Trust,G&A beds occupied,Type 1,472\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFR,"
        "The Rotherham NHS Foundation Trust,G&A beds occupied,Type 1,453\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RHQ,"
        "Sheffield Teaching Hospitals NHS Foundation Trust,G&A beds occupied,Type 1,1477\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RP5,"
        "Doncaster and Bassetlaw Teaching Hospitals NHS Foundation Trust,G&A beds occupied,Type 1,710\n"
    "01/01/2025,National,[z],[z],ENG,England,Adult critical care beds occupied,Type 1,3344\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,Adult critical care beds occupied,"
        "Type 1,499\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "Adult critical care beds occupied,Type 1,126\n"
    "01/01/2025,National,[z],[z],ENG,England,Adult critical care beds occupied,All Type,3444\n"
    "01/01/2025,Region,NORTH EAST AND YORKSHIRE,[z],Y63,North East and Yorkshire,Adult critical care beds occupied,"
        "All Type,499\n"
    "01/01/2025,ICB,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,QF7,South Yorkshire ICB,"
        "Adult critical care beds occupied,All Type,126\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RCU,"
        "Sheffield Children's NHS Foundation Trust,Adult critical care beds occupied,Type 1,0\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFF,"
        "Barnsley Hospital NHS Foundation Trust,Adult critical care beds occupied,Type 1,19\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RFR,"
        "The Rotherham NHS Foundation Trust,Adult critical care beds occupied,Type 1,10\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RHQ,"
        "Sheffield Teaching Hospitals NHS Foundation Trust,Adult critical care beds occupied,Type 1,76\n"
    "01/01/2025,Provider,NORTH EAST AND YORKSHIRE,NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD,RP5,"
        "Doncaster and Bassetlaw Teaching Hospitals NHS Foundation Trust,Adult critical care beds occupied,Type 1,21\n"
    ",,,,,,,,\n,,,,,,,,\n,,,,,,,,\n"
)


@pytest.fixture
def extract(tmp_path):
    path = tmp_path / "202501-January-2025-beds-sitrep-data-FINAL-revised.csv"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


def test_provider_rows_and_published_icb_row(extract):
    trusts = read_uec_beds_sitrep(extract)
    assert trusts["org_code"].tolist() == ["RCU", "RFF", "RFR", "RHQ", "RP5"]
    assert (trusts["period"] == pd.Timestamp("2025-01-01")).all()
    assert trusts.set_index("org_code").loc["RHQ", "ga_beds_available"] == 1560
    icb = read_uec_beds_sitrep(extract, level="icb").iloc[0]
    assert icb["org_code"] == "QF7" and icb["icb_name"] == "NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD"
    # the published ICB row is the sum of its trusts' monthly means, up to rounding of each mean
    assert abs(trusts["ga_beds_available"].sum() - icb["ga_beds_available"]) <= 1   # 3,413 vs 3,414
    assert abs(trusts["ga_beds_occupied"].sum() - icb["ga_beds_occupied"]) <= 1     # 3,203 vs 3,204
    assert trusts["adult_cc_beds_occupied"].sum() == icb["adult_cc_beds_occupied"] == 126


def test_aggregate_rows_published_twice(extract):
    eng_all = read_uec_beds_sitrep(extract, level="england").iloc[0]
    eng_t1 = read_uec_beds_sitrep(extract, level="england", aggregate_type="type1").iloc[0]
    assert (eng_all["ga_beds_available"], eng_t1["ga_beds_available"]) == (103578, 101862)
    assert (eng_all["trust_type"], eng_t1["trust_type"]) == ("All Type", "Type 1")
    assert pd.isna(eng_all["region"]) and pd.isna(eng_all["icb_name"])   # '[z]': not applicable
    every = read_uec_beds_sitrep(extract, level="all")
    assert every["level"].value_counts().to_dict() == {"provider": 5, "england": 1, "region": 1, "icb": 1}


def test_unrecognised_header_names_the_expected_columns(tmp_path, extract):
    bad = tmp_path / "beds.csv"
    bad.write_text(EXTRACT.replace("Metric,Type,Value", "Measure,Type,Value", 1), encoding="utf-8")
    with pytest.raises(LayoutNotRecognisedError, match="'Period', 'Level', 'Region', 'ICB', 'Org Code'"):
        read_uec_beds_sitrep(bad)
    xlsx = tmp_path / "202501-January-2025-sitrep-data-FINAL.xlsx"
    xlsx.write_bytes(b"PK")
    with pytest.raises(LayoutNotRecognisedError, match="CSV layout"):
        read_uec_beds_sitrep(xlsx)


def test_same_month_twice_is_refused(extract):
    with pytest.raises(DuplicateRowsError, match="one vintage"):
        read_uec_beds_sitrep([extract, extract])


@pytest.mark.realdata
def test_real_files_against_healthyr_and_england_rows(realdata_root, real_source):
    from evalint.io import read_source

    real_source("uec_beds_sitrep")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        beds = read_source("uec_beds_sitrep", level="all")
    trusts = beds[beds["level"] == "provider"]
    eng = beds[beds["level"] == "england"].set_index("period")["ga_beds_available"]
    # sum over providers against the published England (all trusts) row: 103,579 vs 103,578 (Jan),
    # 100,636 vs 100,640 (Jul); each provider value is a rounded monthly mean
    summed = trusts.groupby("period")["ga_beds_available"].sum()
    assert summed.index.strftime("%Y-%m").tolist() == ["2025-01", "2025-07"]
    assert ((summed - eng).abs() <= 5).all() and int(eng.iloc[0]) == 103578
    # healthyr read the same months from NHS England's .xlsx webfiles: equal for every trust
    tidy = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_critical_general_acute_beds.csv")
    tidy = tidy[tidy["date"].isin(["January 2025", "July 2025"])].copy()
    tidy["period"] = pd.to_datetime(tidy["date"], format="%B %Y")
    both = trusts.merge(tidy, left_on=["period", "org_code"], right_on=["period", "nhs_trust22_code"])
    assert len(both) == 268 == len(trusts)       # 134 trusts x 2 months, none unmatched
    assert (both["ga_beds_available"] == both["general_acute_beds_available"]).all()
    assert (both["ga_beds_occupied"] == both["general_acute_beds_occupied"]).all()
    cc = both.dropna(subset=["adult_cc_beds_occupied", "adult_critical_care_beds_occupied"])
    assert len(cc) >= 260 and (cc["adult_cc_beds_occupied"] == cc["adult_critical_care_beds_occupied"]).all()
