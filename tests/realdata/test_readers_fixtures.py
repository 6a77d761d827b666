"""Readers on small extracts in the exact published layouts (tests/data/io/).

Each extract keeps NHS England's / the copy's cells at their published positions (header rows,
section headings, day blocks). Expected values are read from the extract's cells with openpyxl
or the csv module, independently of the readers.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from evalint.errors import ColumnNotFoundError, DroppedRowsWarning, TimeParseError
from evalint.io import (
    aggregate_to_month,
    read_ae_england_timeseries,
    read_bcf_intermediate_care,
    read_discharge_sitrep,
    read_discharge_timeseries,
    read_dtoc_england,
    read_healthyr,
    read_kh03_beds,
    read_ons_mye,
    to_monthly,
    to_panel,
)
from evalint.io.kh03 import fiscal_quarter_start

DATA = Path(__file__).resolve().parents[1] / "data" / "io"


def _cells(name: str, sheet: str) -> list[list]:
    ws = openpyxl.load_workbook(DATA / name)[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_sitrep_webfile_layout_trust_icb_region_england():
    path = DATA / "discharge_sitrep_webfile_june2022_extract.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_discharge_sitrep(path, level="all")
    cells = _cells(path.name, "Table 2")
    # the published cells: row 5 England, rows with codes QMJ / RAL; day 1 block = columns E:G
    eng = next(r for r in cells if str(r[3]).startswith("ENGLAND"))
    ral = next(r for r in cells if r[2] == "RAL")
    qmj = next(r for r in cells if r[2] == "QMJ")
    d1 = pd.Timestamp("2022-06-01")
    got = df.set_index(["org_code", "date"])
    assert got.loc[("ENGLAND", d1), "nctr_patients"] == eng[4]
    assert got.loc[("ENGLAND", d1), "nctr_remaining_patients"] == eng[6]
    assert got.loc[("RAL", d1), "discharged_patients"] == ral[5]
    assert got.loc[("QMJ", pd.Timestamp("2022-06-02")), "nctr_patients"] == qmj[7]
    levels = df.drop_duplicates("org_code").set_index("org_code")["level"].to_dict()
    assert levels == {"ENGLAND": "england", "LONDON": "region", "SOUTH WEST": "region",
                      "QMJ": "icb", "QR1": "icb", "RAL": "trust", "RF4": "trust", "RTE": "trust"}
    # nctr = discharged + remaining in the published rows
    assert np.allclose(df["nctr_patients"], df["discharged_patients"] + df["nctr_remaining_patients"])
    month = aggregate_to_month(df.loc[df["level"] == "england"])
    assert month["days_reported"].iat[0] == 2
    assert month["nctr_patients"].iat[0] == pytest.approx((eng[4] + eng[7]) / 2)


def test_sitrep_webfile_unrecognised_layout_names_what_it_expected():
    cells = _cells("discharge_sitrep_webfile_june2022_extract.xlsx", "Table 2")
    grid = pd.DataFrame(cells)
    grid.iloc[3] = grid.iloc[3].where(grid.iloc[3].isna(), "Something else")
    with pytest.raises(ColumnNotFoundError, match="Org Code"):
        read_discharge_sitrep(grid)


def test_ae_timeseries_workbook_extract():
    path = DATA / "ae_timeseries_march2024_extract.xlsx"
    df = read_ae_england_timeseries(path)
    cells = _cells(path.name, "Activity")
    header = cells[13]
    col = header.index("Total Emergency Admissions")
    jan19 = next(r for r in cells if hasattr(r[1], "year") and (r[1].year, r[1].month) == (2019, 1))
    row = df.set_index("period").loc[pd.Timestamp("2019-01-01")]
    assert row["emergency_admissions_total"] == jan19[col]
    assert row["attendances_type1"] == jan19[header.index("Type 1 Departments - Major A&E")]
    assert df.attrs["evalint_io"]["header_row"] == 14
    est = df.set_index("period")["estimated"]
    assert not est[pd.Timestamp("2010-08-01")] and est[pd.Timestamp("2010-11-01")]


def test_ae_timeseries_wrong_sheet_and_missing_header():
    with pytest.raises(ColumnNotFoundError, match="Activity"):
        read_ae_england_timeseries(DATA / "discharge_timeseries_extract.xlsx")
    grid = pd.DataFrame(_cells("ae_timeseries_march2024_extract.xlsx", "Activity"))
    grid.iloc[13] = grid.iloc[13].replace("Total Emergency Admissions", "Total")
    with pytest.raises(ColumnNotFoundError, match="Total Emergency Admissions"):
        read_ae_england_timeseries(grid)


def test_discharge_timeseries_destinations_missing_before_collection():
    path = DATA / "discharge_timeseries_extract.xlsx"
    df = read_discharge_timeseries(path).set_index("date")
    cells = _cells(path.name, "Daily Series")
    may13 = next(r for r in cells if hasattr(r[1], "day") and r[1].day == 13)
    assert df.loc[pd.Timestamp("2021-05-13"), "nctr_patients"] == may13[2]
    dest = [c for c in df.columns if c.startswith("dest_")]
    assert len(dest) == 12
    assert df.loc[pd.Timestamp("2021-05-11"), dest].isna().all()  # published 0: not collected
    assert df.loc[pd.Timestamp("2021-05-13"), dest].notna().all()


def test_healthyr_copied_months_dropped():
    path = DATA / "healthyr_trust_ae_extract.csv"
    with pytest.warns(DroppedRowsWarning, match="2025-02 = 2024-02"):
        df = read_healthyr(path, table="trust_ae")
    assert sorted(df["period"].dt.strftime("%Y-%m").unique()) == [
        "2024-01", "2024-02", "2024-03", "2025-01", "2025-04"]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    raj = [r for r in rows if r["nhs_trust22_code"] == "RAJ" and r["date"] == "January 2025"][0]
    got = df.set_index(["org_code", "period"]).loc[("RAJ", pd.Timestamp("2025-01-01"))]
    assert got["total_emergency_admissions"] == float(raj["total_emergency_admissions"])
    kept = read_healthyr(path, table="trust_ae", copied="keep")
    assert len(kept) == len(rows)
    assert kept.attrs["evalint_io"]["checks"][0]["passed"] is False


def test_healthyr_zero_filled_days_become_missing():
    path = DATA / "healthyr_trust_criteria_to_reside_extract.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    zeros = {(r["nhs_trust22_code"], r["date"]) for r in rows if r["do_not_meet_criteria_to_reside"] == "0"}
    df = read_healthyr(path)
    na = {(o, f"{d:%Y-%m-%d}")
          for o, d in df.loc[df["do_not_meet_criteria_to_reside"].isna(), ["org_code", "date"]].itertuples(index=False)}
    assert na == zeros and len(zeros) == 6
    month = to_monthly(df, stocks=["do_not_meet_criteria_to_reside"])
    ra7 = month.set_index("org_code").loc["RA7"]
    assert ra7["days_reported"] == 30 - 5
    vals = [float(r["do_not_meet_criteria_to_reside"]) for r in rows
            if r["nhs_trust22_code"] == "RA7" and r["do_not_meet_criteria_to_reside"] != "0"]
    assert ra7["do_not_meet_criteria_to_reside"] == pytest.approx(np.mean(vals))
    kept = read_healthyr(path, zeros="keep")
    assert kept["do_not_meet_criteria_to_reside"].notna().all()


def test_healthyr_unknown_table():
    with pytest.raises(ColumnNotFoundError, match="nhs_trust22_code"):
        read_healthyr(DATA / "kh03_beds_extract.csv")


def test_dtoc_kh03_ons_bcf_extracts():
    dtoc = read_dtoc_england(DATA / "dtoc_england_extract.csv").set_index("period")
    # NHS England DTOC, January 2017: 197,511 delayed days (published monthly total)
    assert dtoc.loc[pd.Timestamp("2017-01-01"), "delayed_days"] == 197511
    assert dtoc.loc[pd.Timestamp("2017-01-01"), "delayed_patients"] == pytest.approx(197511 / 31)
    kh = read_kh03_beds(DATA / "kh03_beds_extract.csv")
    assert set(kh["fiscal_label"]) == {"2019 Q1", "2019 Q2", "2019 Q3", "2019 Q4"}
    assert fiscal_quarter_start("2019 Q4") == pd.Timestamp("2020-01-01")
    assert fiscal_quarter_start("2020 Q1") == pd.Timestamp("2020-04-01")
    with pytest.raises(TimeParseError):
        fiscal_quarter_start("Q1 2019")
    pop = read_ons_mye(DATA / "ons_mye_icb_extract.csv")
    assert set(pop["org_level"]) == {"icb"} and sorted(pop["year"].unique()) == [2017, 2019, 2020]
    bcf = read_bcf_intermediate_care(DATA / "bcf_2022_23_extract.csv").set_index("org_code")
    # Hartlepool: 995,820 + 633,569 GBP (the published BCF 2022-23 plan cells)
    assert bcf.loc["E06000001", "bcf_intermediate_care_gbp"] == 995820 + 633569


def test_to_panel_single_series_and_panel():
    dtoc = read_dtoc_england(DATA / "dtoc_england_extract.csv")
    p = to_panel(dtoc, "delayed_days")
    assert p.n_periods == 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = read_healthyr(DATA / "healthyr_trust_ae_extract.csv", table="trust_ae")
    p2 = to_panel(ae.loc[ae["period"].dt.year == 2024], "total_emergency_admissions")
    assert p2.n_units == 3 and p2.n_periods == 3
