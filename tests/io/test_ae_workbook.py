"""Monthly A&E workbook reader (:func:`evalint.io.read_ae_workbook`) on the published layout.

The fixture is written here with openpyxl in the layout of NHS England's
``January-2025-AE-by-provider-HyTsU.xls``, sheet "Provider Level Data" (copy in
data-sloth/nhs-dashboard@d6da813, src/nhs_dashboard/data/xls/): column A empty, the title block
on rows 2-12 (B:C), the sheet title on row 14, group headers on row 15, column headers on row 16
(B:AB), the England row on row 17, a blank row 18 and providers from row 19; the cell texts and
the England, RC9, RGT and RWH rows are copied from that file. The same sheet in the pre-2021
layout (no "< 4 hours" group, two percentage columns; nhsAEscraper's format check) is built by
deleting those columns. The .xlsx fixture goes through openpyxl; the real .xls files (realdata
tests) go through python-calamine: the same parsing path after the grid is read.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint.io import LayoutNotRecognisedError, read_ae_workbook

openpyxl = pytest.importorskip("openpyxl")

TITLE = [
    ("Title:", "A&E Attendances & Emergency Admission monthly statistics, NHS and independent sector "
               "organisations in England"),
    None,
    ("Summary:", "The total of booked and non-booked A&E attendances, as well as emergency admissions and "
                 "headline 4-hour performance."),
    None,
    ("Period:", "January 2025"),
    ("Source:", "SDCS data collection - MSitAE"),
    ("Basis:", "Provider"),
    ("Published:", "13th February 2025"),
    ("Revised:", None),
    ("Status:", "Published"),
    ("Contact:", "Kerry Evert - england.aedata@nhs.net"),
]
T1, T2, T3 = ("Type 1 Departments - Major A&E", "Type 2 Departments - Single Specialty",
              "Type 3 Departments - Other A&E/Minor Injury Unit")
GROUPS = {4: "A&E attendances",
          8: "A&E attendances less than 4 hours from arrival to admission, transfer or discharge",
          12: "A&E attendances greater than 4 hours from arrival to admission, transfer or discharge",
          16: "Percentage of attendances within 4 hours", 20: "Emergency Admissions"}
HEADERS = ["Code", "Region", "Name", T1, T2, T3, "Total attendances", T1, T2, T3, "Total Attendances < 4 hours",
           T1, T2, T3, "Total Attendances > 4 hours", "Percentage in 4 hours or less (all)",
           "Percentage in 4 hours or less (type 1)", "Percentage in 4 hours or less (type 2)",
           "Percentage in 4 hours or less (type 3)", "Emergency Admissions via Type 1 A&E",
           "Emergency Admissions via Type 2 A&E", "Emergency Admissions via Type 3 and 4 A&E",
           "Total Emergency Admissions via A&E", "Other Emergency admissions (i.e not via A&E)",
           "Total Emergency Admissions",
           "Number of patients spending >4 hours from decision to admit to admission",
           "Number of patients spending >12 hours from decision to admit to admission"]
ENGLAND = ["-", "-", "England", 1359026, 49486, 809618, 2218130, 784388, 47561, 787435, 1619384, 574638, 1925,
           22183, 598746, 0.7300672187833896, 0.5771692373803003, 0.9611001091217718, 0.9726006585821956,
           400481, 1353, 4394, 406228, 142547, 548775, 159582, 61529]
PROVIDERS = [
    ["RC9", "NHS England East Of England ", "Bedfordshire Hospitals NHS Foundation Trust", 15468, 0, 9712, 25180,
     8264, 0, 9712, 17976, 7204, 0, 0, 7204, 0.7138999205718825, 0.5342642875614171, "-", 1, 4816, 0, 0, 4816,
     2319, 7135, 105, 22],
    ["RGT", "NHS England East Of England ", "Cambridge University Hospitals NHS Foundation Trust", 10098, 0,
     5846, 15944, 5436, 0, 5804, 11240, 4662, 0, 42, 4704, 0.7049673858504767, 0.5383244206773619, "-",
     0.9928156004105371, 2710, 0, 33, 2743, 525, 3268, 1166, 646],
    ["RWH", "NHS England East Of England ", "East And North Hertfordshire NHS Trust", 8687, 0, 7191, 15878, 3869,
     0, 7163, 11032, 4818, 0, 28, 4846, 0.6947978334802872, 0.44537815126050423, "-", 0.9961062439160061,
     2953, 0, 2, 2955, 178, 3133, 615, 340],
]


def write_workbook(path, *, drop=(), groups=None, sheet="Provider Level Data", headers=None):
    """The published sheet; ``drop`` removes 0-based positions of HEADERS (older layouts)."""
    keep = [i for i in range(len(HEADERS)) if i not in set(drop)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "System Level Data"
    ws = wb.create_sheet(sheet)
    for i, item in enumerate(TITLE):
        if item:
            ws.cell(row=2 + i, column=2, value=item[0])
            ws.cell(row=2 + i, column=3, value=item[1])
    ws.cell(row=14, column=2, value=sheet)
    for pos, text in (groups if groups is not None else GROUPS).items():
        col = keep.index(pos - 1) if (pos - 1) in keep else None
        if col is not None:
            ws.cell(row=15, column=2 + col, value=text)
    for j, i in enumerate(keep):
        ws.cell(row=16, column=2 + j, value=(headers or HEADERS)[i])
        ws.cell(row=17, column=2 + j, value=ENGLAND[i])
        for k, row in enumerate(PROVIDERS):
            ws.cell(row=19 + k, column=2 + j, value=row[i])
    wb.save(path)
    return path


@pytest.fixture
def workbook(tmp_path):
    return write_workbook(tmp_path / "January-2025-AE-by-provider-HyTsU.xlsx")


def test_provider_sheet_values(workbook):
    with pytest.warns(Warning, match="Dropped 1 England row"):
        ae = read_ae_workbook(workbook)
    assert ae["org_code"].tolist() == ["RC9", "RGT", "RWH"]
    assert (ae["period"] == pd.Timestamp("2025-01-01")).all()
    rc9 = ae.iloc[0]
    # published cells: total attendances 25,180, > 4 hours 7,204, emergency admissions 7,135 (4,816 via A&E)
    assert (rc9["attendances_total"], rc9["over_4hrs_total"]) == (25180, 7204)
    assert (rc9["emergency_admissions_via_ae_total"], rc9["emergency_admissions_total"]) == (4816, 7135)
    assert (rc9["dta_over_4hrs"], rc9["dta_12plus_hrs"], rc9["dta_4_12hrs"]) == (105, 22, 83)
    assert rc9["parent_org"] == "NHS England East Of England"
    assert ae.attrs["evalint_io"]["workbooks"][workbook.name]["header_row"] == 16


def test_england_row_is_the_total(workbook):
    eng = read_ae_workbook(workbook, keep_totals=True)
    eng = eng[eng["is_total"]].iloc[0]
    assert eng["org_code"] == "TOTAL"
    assert (eng["attendances_total"], eng["emergency_admissions_total"], eng["dta_12plus_hrs"]) == (
        2218130, 548775, 61529)


def test_pre_2021_layout_reads_the_same_numbers(tmp_path, workbook):
    # up to 2020: no '< 4 hours' group and no type 2/3 percentages; '> 4 hours' group with the symbol
    old = write_workbook(tmp_path / "January-2019-AE-by-provider.xlsx", drop=(7, 8, 9, 10, 17, 18),
                         groups={4: "A&E attendances",
                                 12: "A&E attendances > 4 hours from arrival to admission, transfer or discharge",
                                 16: "Percentage of attendances within 4 hours", 20: "Emergency Admissions"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = read_ae_workbook(workbook).drop(columns="source")
        b = read_ae_workbook(old).drop(columns="source")
    pd.testing.assert_frame_equal(a, b)


def test_unrecognised_layouts_name_sheet_row_and_columns(tmp_path, workbook):
    with pytest.raises(LayoutNotRecognisedError, match="no sheet 'Non-Booked Data'.*'Provider Level Data'"):
        read_ae_workbook(workbook, sheet="Non-Booked Data")
    # without its group header the attendance columns cannot be told from the '> 4 hours' ones
    bad = write_workbook(tmp_path / "bad.xlsx", groups={20: "Emergency Admissions"})
    with pytest.raises(LayoutNotRecognisedError,
                       match=r"sheet 'Provider Level Data', header row 16: .*A&E attendances Type 1"):
        read_ae_workbook(bad, period="January 2025")
    headerless = write_workbook(tmp_path / "x.xlsx", headers=["Org"] + HEADERS[1:])
    with pytest.raises(LayoutNotRecognisedError, match="no header row found"):
        read_ae_workbook(headerless)


@pytest.mark.realdata
def test_real_workbooks_against_healthyr_and_the_england_row(realdata_root, real_source):
    from evalint.io import read_source

    real_source("ae_provider_workbooks")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = read_source("ae_provider_workbooks", keep_totals=True)
    assert ae["period"].dt.strftime("%Y-%m").nunique() == 9
    # every month: provider rows sum to the published England row
    tot = ae[ae["is_total"]].set_index("period")
    prov = ae[~ae["is_total"]].groupby("period")[["attendances_total", "emergency_admissions_total"]].sum()
    pd.testing.assert_frame_equal(prov, tot[prov.columns], check_names=False)
    assert tot.loc["2025-01-01", "emergency_admissions_total"] == 548775
    # healthyr read the same sheets from NHS England's downloads: equal for every trust-month
    tidy = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_trust_accidents_emergency.csv")
    tidy["period"] = pd.to_datetime(tidy["date"], format="%B %Y")
    both = ae[~ae["is_total"]].merge(tidy, left_on=["period", "org_code"], right_on=["period", "nhs_trust22_code"])
    assert len(both) == 1349
    assert (both["attendances_total"] == both["total_attendances"]).all()
    assert (both["emergency_admissions_total"] == both["total_emergency_admissions"]).all()
    assert (both["dta_over_4hrs"] == both["emergency_admissions_over_4hours"]).all()
    over = both.dropna(subset=["attendances_over_4hours"])
    assert (over["over_4hrs_total"] == over["attendances_over_4hours"]).all()


@pytest.mark.realdata
def test_real_icb_sheet_against_healthyr(realdata_root, real_source):
    from evalint.geography import icb_table
    from evalint.io import read_source

    real_source("ae_icb_workbook")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        icb = read_source("ae_icb_workbook", keep_totals=True)
    rows = icb[~icb["is_total"]].merge(icb_table()[["icb22_code", "icb22_code_h"]],
                                       left_on="org_code", right_on="icb22_code_h")
    assert len(rows) == 42
    assert rows["emergency_admissions_total"].sum() == icb.loc[icb["is_total"], "emergency_admissions_total"].item()
    tidy = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv")
    both = rows.merge(tidy[tidy["date"] == "November 2024"], on="icb22_code")
    assert len(both) == 42
    assert (both["attendances_total"] == both["total_attendances"]).all()
    assert (both["emergency_admissions_total"] == both["total_emergency_admissions"]).all()
