"""Acceptance checks of the small-table readers (BCF, KH03, ONS mid-year estimates) on awkward
copies of their published layouts, written here to a temporary folder.

Expected numbers are the cells written into each file (hand arithmetic), never evalint output.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint.errors import (
    DuplicateRowsError,
    EvalintError,
    MissingValuesError,
    NonNumericError,
)
from evalint.io import (
    MissingValuesWarning,
    read_bcf_intermediate_care,
    read_kh03_beds,
    read_ons_mye,
)

BCF_HEADER = ("Code,LA_name,Bed based intermediate Care Services,Reablement in a persons own home,"
              "value,over_65_pop.x,episodes_over65")


def _csv(tmp_path, name: str, header: str, rows: tuple[str, ...]):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _bcf(tmp_path, *rows: str):
    return _csv(tmp_path, "BCF.csv", BCF_HEADER, rows)


def test_bcf_totals_row_without_a_code_is_refused_not_counted_as_a_board(tmp_path):
    # a re-exported table whose totals row lost its 'Total' code: before, it was read as a 152nd
    # board and doubled every sum (1,000 + 3,000 = 4,000 read as 8,000)
    path = _bcf(tmp_path, "E06000001,Hartlepool,1000,10,72703,18336,1160",
                "E06000002,Middlesbrough,3000,30,110293,24369,330",
                ",England,4000,40,,,")
    with pytest.raises(MissingValuesError, match=r"'Code'.*line 4.*England"):
        read_bcf_intermediate_care(path)


def test_bcf_spend_written_as_money_text_is_read_not_made_missing(tmp_path):
    # before: "£995,820" became NaN without a warning (the sum over boards lost it)
    path = _bcf(tmp_path, 'E06000001,Hartlepool,"£995,820","£633,569",72703,18336,1160',
                "E06000002,Middlesbrough,1985013,1237522,110293,24369,330")
    out = read_bcf_intermediate_care(path)
    assert out["bcf_bed_based_ic_gbp"].tolist() == [995820.0, 1985013.0]
    assert out["bcf_intermediate_care_gbp"].iloc[0] == 995820.0 + 633569.0
    assert out["bcf_bed_based_ic_gbp"].sum() == 995820 + 1985013


def test_bcf_text_in_a_spend_column_is_refused_naming_the_board(tmp_path):
    path = _bcf(tmp_path, "E06000001,Hartlepool,see note,633569,72703,18336,1160")
    with pytest.raises(NonNumericError, match=r"bcf_bed_based_ic_gbp.*see note.*E06000001"):
        read_bcf_intermediate_care(path)


def test_bcf_blank_and_dash_spend_stay_missing(tmp_path):
    path = _bcf(tmp_path, "E06000001,Hartlepool,,633569,72703,18336,1160",
                "E06000002,Middlesbrough,-,1237522,110293,24369,330")
    out = read_bcf_intermediate_care(path)
    assert out["bcf_bed_based_ic_gbp"].isna().all()
    assert out["bcf_reablement_gbp"].sum() == 633569 + 1237522


def test_bcf_duplicated_board_is_refused(tmp_path):
    # before: read twice, and its spend counted twice
    row = "E06000001,Hartlepool,1000,10,72703,18336,1160"
    with pytest.raises(DuplicateRowsError, match="E06000001"):
        read_bcf_intermediate_care(_bcf(tmp_path, row, row))


KH03_HEADER = '"","date","trust_code","occupied_beds","bed_capacity"'


def test_kh03_suppressed_cells_are_missing_not_a_raw_error(tmp_path):
    path = tmp_path / "beds.csv"
    path.write_text("\n".join([KH03_HEADER, '1,2019 Q3,"RBL",635.5,*', '2,2019 Q3,"RBT",500,538'])
                    + "\n", encoding="utf-8")
    # before: ValueError: could not convert string to float: '*'
    with pytest.warns(MissingValuesWarning, match="beds_available: 1"):
        out = read_kh03_beds(path)
    rbt = out.set_index("org_code").loc["RBT"]
    assert rbt["occupancy"] == pytest.approx(500 / 538, rel=1e-15)
    assert pd.isna(out.set_index("org_code").loc["RBL", "beds_available"])
    path.write_text("\n".join([KH03_HEADER, '1,2019 Q3,"RBL",635.5,closed']) + "\n", encoding="utf-8")
    with pytest.raises(NonNumericError, match=r"bed_capacity.*closed.*RBL 2019 Q3"):
        read_kh03_beds(path)


def test_kh03_duplicated_trust_quarter_is_refused(tmp_path):
    path = tmp_path / "beds.csv"
    path.write_text("\n".join([KH03_HEADER, '1,2019 Q3,"RBL",635.5,700', '2,2019 Q3,"RBL",635.5,700'])
                    + "\n", encoding="utf-8")
    with pytest.raises(DuplicateRowsError, match="RBL 2019 Q3"):
        read_kh03_beds(path)


ONS_HEADER = "mid_year,icb22_code,icb22_code_h,icb22_name,total_population,pop_18plus,pop_65plus,pop_75plus"


def test_ons_dash_is_missing_and_text_or_duplicates_are_refused(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("\n".join([ONS_HEADER, "2019,E54000057,QOP,GM,2834979,-,450000,200000",
                               "2020,E54000057,QOP,GM,2848286,2200000,455000,205000"]) + "\n",
                    encoding="utf-8")
    # before: ValueError: could not convert string to float: '-'
    with pytest.warns(MissingValuesWarning, match="population_18plus: 1"):
        out = read_ons_mye(path)
    assert out["population"].sum() == 2834979 + 2848286
    path.write_text("\n".join([ONS_HEADER, "2019,E54000057,QOP,GM,2834979,2200000,450000,200000",
                               "2019,E54000057,QOP,GM,2834979,2200000,450000,200000"]) + "\n",
                    encoding="utf-8")
    # before: both rows kept, the ICB counted twice in any sum over a year
    with pytest.raises(DuplicateRowsError, match="E54000057 2019"):
        read_ons_mye(path)
    path.write_text("\n".join([ONS_HEADER, "2019,E54000057,QOP,GM,2834979,2200000,450000,n/k"]) + "\n",
                    encoding="utf-8")
    with pytest.raises(NonNumericError, match=r"pop_75plus.*n/k"):
        read_ons_mye(path)


def test_readers_raise_only_evalint_errors_on_a_truncated_last_line(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("\n".join([ONS_HEADER, "2019,E54000057,QOP,GM,2834979,2200000,450000,200000",
                               "20"]) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EvalintError):
            read_ons_mye(path)


AE_HEADER = ("nhs_trust22_code,total_attendances,attendances_over_4hours,total_emergency_admissions,"
             "emergency_admissions_over_4hours,pct_attendance_over_4hours,"
             "pct_emergency_admissions_over_4hours,date")


def _healthyr_ae(tmp_path, *rows: str):
    return _csv(tmp_path, "england_trust_accidents_emergency.csv", AE_HEADER, rows)


def test_healthyr_text_in_a_count_is_refused_and_suppressed_cells_are_missing(tmp_path):
    from evalint.io import read_healthyr

    path = _healthyr_ae(tmp_path, "RC9,17570,n/k,6154,0,,0,April 2021",
                        "RGT,12525,*,3355,358,,0.11,April 2021")
    # before: 'n/k' became NaN without a word
    with pytest.raises(NonNumericError, match=r"attendances_over_4hours.*n/k.*RC9 2021-04"):
        read_healthyr(path)
    path = _healthyr_ae(tmp_path, "RC9,17570,-,6154,0,,0,April 2021",
                        "RGT,12525,*,3355,358,,0.11,April 2021")
    out = read_healthyr(path, copied="keep")
    assert out["attendances_over_4hours"].isna().all()
    assert out["total_emergency_admissions"].sum() == 6154 + 3355


def test_healthyr_repeated_organisation_month_is_refused(tmp_path):
    from evalint.io import read_healthyr

    row = "RC9,17570,100,6154,0,,0,April 2021"
    # before: both rows kept, the trust's admissions counted twice in any sum
    with pytest.raises(DuplicateRowsError, match="RC9 2021-04"):
        read_healthyr(_healthyr_ae(tmp_path, row, row))


def test_healthyr_row_with_values_but_no_code_is_refused_empty_rows_are_dropped(tmp_path):
    from evalint.io import read_healthyr

    path = _healthyr_ae(tmp_path, "RC9,17570,100,6154,0,,0,April 2021", ",500,1,50,0,,0,April 2021")
    # before: kept with a missing org_code, its 50 admissions attributed to no trust silently
    with pytest.raises(MissingValuesError, match=r"nhs_trust22_code.*line.*3"):
        read_healthyr(path)
    path = _healthyr_ae(tmp_path, "RC9,17570,100,6154,0,,0,April 2021", ",,,,,,,April 2021")
    out = read_healthyr(path, copied="keep")
    assert out["org_code"].tolist() == ["RC9"]
    assert out.attrs["evalint_io"]["empty_rows_dropped"] == 1


DTOC_HEADER = ("month,year,ONS_pop_est,out_deaths_total,exp_days_dtoc,exp_days_acute,exp_days_nonacute,"
               "exp_patients_dtoc,exp_patients_acute,exp_patients_nonacute")


def test_dtoc_text_and_repeated_months(tmp_path):
    from evalint.io import read_dtoc_england

    path = tmp_path / "dtoc.csv"
    path.write_text("\n".join([DTOC_HEADER, "January,2017,1,1,197511,1,1,1,1,1",
                               "February,2017,1,1,see note,1,1,1,1,1"]) + "\n", encoding="utf-8")
    # before: 'see note' became NaN silently
    with pytest.raises(NonNumericError, match=r"exp_days_dtoc.*see note.*2017-02"):
        read_dtoc_england(path)
    path.write_text("\n".join([DTOC_HEADER, "January,2017,1,1,197511,1,1,1,1,1",
                               "January,2017,1,1,197511,1,1,1,1,1"]) + "\n", encoding="utf-8")
    with pytest.raises(DuplicateRowsError, match="2017-01"):
        read_dtoc_england(path)
    path.write_text("\n".join([DTOC_HEADER, "January,2017,1,1,197511,1,1,1,1,1",
                               "February,2017,1,1,186490,1,1,1,1,1"]) + "\n", encoding="utf-8")
    out = read_dtoc_england(path)
    # delayed patients per day = delayed days / days in the month (SOURCE.md's Jan/Feb 2017 totals)
    assert out["delayed_patients"].tolist() == [197511 / 31, 186490 / 28]


def test_read_source_refuses_an_option_its_reader_does_not_take():
    from evalint.errors import SpecificationError
    from evalint.io import read_source

    # before: a raw TypeError from the reader (checked before any file is looked for)
    with pytest.raises(SpecificationError, match=r"'copid'.*read_healthyr.*'copied'"):
        read_source("healthyr_trust_ae", copid="keep")
    with pytest.raises(SpecificationError, match="call its reader directly"):
        read_source("/data/england_trust_accidents_emergency.csv")


def _daily(dates, values, org="R0A"):
    return pd.DataFrame({"org_code": org, "date": dates, "nctr": values})


def test_to_monthly_reads_uk_dates_day_first():
    from evalint.io import to_monthly

    days = pd.date_range("2022-04-01", "2022-05-31", freq="D")
    values = [float(i) for i in range(len(days))]
    frame = _daily(days.strftime("%d/%m/%Y"), values)
    out = to_monthly(frame, stocks=["nctr"])
    # hand: April = mean(0..29) = 14.5, May = mean(30..60) = 45
    assert out["period"].tolist() == [pd.Timestamp("2022-04-01"), pd.Timestamp("2022-05-01")]
    assert out["nctr"].tolist() == [14.5, 45.0]
    assert out["days_reported"].tolist() == [30, 31]


def test_to_monthly_refuses_repeated_days_and_a_column_both_stock_and_flow():
    from evalint.errors import SpecificationError
    from evalint.io import to_monthly

    days = pd.date_range("2022-04-01", "2022-04-30", freq="D")
    frame = _daily(days, [1.0] * 30)
    # 5 April missing and 1 April repeated: before, 30 values made April look complete and the
    # flow was summed as 30 (one day counted twice, one not at all)
    with pytest.raises(DuplicateRowsError, match="R0A 2022-04-01"):
        to_monthly(pd.concat([frame.drop(index=4), frame.iloc[:1]]), flows=["nctr"])
    # before: a raw ValueError from pandas
    with pytest.raises(SpecificationError, match="both a stock"):
        to_monthly(frame, stocks=["nctr"], flows=["nctr"])
    with pytest.raises(EvalintError, match="missing date"):
        to_monthly(frame.assign(date=frame["date"].where(frame.index != 3)), stocks=["nctr"])


READERS = ["read_healthyr", "read_kh03_beds", "read_ons_mye", "read_dtoc_england",
           "read_bcf_intermediate_care", "read_uec_beds_sitrep", "read_discharge_sitrep",
           "read_ae_monthly", "read_ae_england_timeseries", "read_discharge_timeseries"]


@pytest.mark.parametrize("reader", READERS)
def test_an_empty_file_is_a_typed_error_naming_it(tmp_path, reader):
    import evalint.io as io
    from evalint.errors import EmptyDataError

    path = tmp_path / "download.csv"
    path.write_text("", encoding="utf-8")
    # before: pandas.errors.EmptyDataError ("No columns to parse from file")
    with pytest.raises(EmptyDataError, match="'download.csv' is empty"):
        getattr(io, reader)(path)


@pytest.mark.parametrize("reader", ["read_discharge_sitrep", "read_ae_workbook", "read_ae_england_timeseries",
                                    "read_discharge_timeseries", "read_dtoc_england"])
def test_a_corrupt_workbook_is_a_typed_error_naming_it(tmp_path, reader):
    import evalint.io as io
    from evalint.io import UnreadableFileError

    path = tmp_path / "webfile.xlsx"
    path.write_text("<html>Not found</html>", encoding="utf-8")   # an error page saved as .xlsx
    # before: zipfile.BadZipFile
    with pytest.raises(UnreadableFileError, match="'webfile.xlsx'"):
        getattr(io, reader)(path)


def test_a_csv_cut_off_inside_a_quote_is_a_typed_error(tmp_path):
    from evalint.io import UnreadableFileError, read_kh03_beds

    path = tmp_path / "beds.csv"
    path.write_text(KH03_HEADER + '\n1,2019 Q3,"RBL,635.5,700\n', encoding="utf-8")
    # before: pandas.errors.ParserError
    with pytest.raises(UnreadableFileError, match="'beds.csv' cannot be read"):
        read_kh03_beds(path)


def test_quality_checks_on_an_empty_frame_is_a_typed_error():
    from evalint.errors import EmptyDataError
    from evalint.io import quality_checks

    frame = pd.DataFrame({"org_code": pd.Series([], dtype=str), "period": pd.Series([], dtype="datetime64[ns]"),
                          "y": pd.Series([], dtype=float)})
    # before: ValueError: NaTType does not support strftime
    with pytest.raises(EmptyDataError, match="no rows"):
        quality_checks(frame, measures="y")
