"""The calendar's choices, a user's events CSV, its coverage and period ends.

A typo in a filter must not give a false all-clear: nation, level, collection, phase and
outcome are read without case and unknown values are refused; a user's events CSV is held to
the same vocabulary; a window outside the calendar's dates is not a pass; and an end given as
a year, quarter or month means the end of that period. Expected counts and dates are read from
the packaged ``events.csv`` with plain pandas (not through evalint).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.cli import main
from evalint.errors import ConfoundingWarning, InvalidValueError, SpecificationError, TimeParseError

REPO = Path(__file__).resolve().parents[2]
OUTCOME = "emergency_admissions"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    df = pd.read_csv(REPO / "evalint" / "calendar" / "events.csv", dtype=str, keep_default_na=False)
    df["start"] = pd.to_datetime(df["start_date"])
    df["last"] = pd.to_datetime(df["end_date"].where(df["end_date"] != "", df["start_date"]))
    return df


@pytest.fixture(scope="module")
def cal() -> PolicyCalendar:
    return PolicyCalendar.default()


def _active(raw: pd.DataFrame, lo: str, hi: str) -> int:
    return int(((raw["start"] <= pd.Timestamp(hi)) & (raw["last"] >= pd.Timestamp(lo))).sum())


# 1. choices --------------------------------------------------------------------------
def test_nation_any_case_and_unknown_refused(cal, raw):
    ref = cal.check("ics_golive_2022", outcome=OUTCOME, nation="England")
    low = cal.check("ics_golive_2022", outcome=OUTCOME, nation="england")
    assert low.passed is ref.passed is False
    assert list(low.table["event_id"]) == list(ref.table["event_id"])
    others = int((~raw["nation"].isin(["England", "UK"])).sum())
    assert f"{others} event(s) outside England were ignored" in low.text
    with pytest.raises(SpecificationError, match=r"nation='Englnd'.*Did you mean 'England'.*England, Scotland"):
        cal.check("ics_golive_2022", outcome=OUTCOME, nation="Englnd")
    with pytest.raises(SpecificationError, match="Wales, NI, UK"):
        cal.for_nation("France")
    wales = int(raw["nation"].isin(["Wales", "UK"]).sum())
    assert len(cal.for_nation("wales")) == wales and len(cal.for_nation("WALES")) == wales


def test_level_and_collection_any_case(cal, raw):
    # unknown levels and collections are accepted with a warning: tests/unit/test_calendar_open_names.py
    icb = cal.check("ics_golive_2022", outcome=OUTCOME, level="icb")
    assert list(cal.check("ics_golive_2022", outcome=OUTCOME, level="ICB").table["event_id"]) == \
        list(icb.table["event_id"])
    sus = cal.check("ics_golive_2022", outcome=OUTCOME, collection="sus")
    assert list(cal.check("ics_golive_2022", outcome=OUTCOME, collection="SUS").table["event_id"]) == \
        list(sus.table["event_id"])


def test_phase_and_outcome_filters_any_case(cal, raw):
    assert len(cal.for_phase("PAID")) == int((raw["phase"] == "paid").sum()) > 0
    listed = int(raw["outcomes_affected"].str.split(";").map(lambda o: "length_of_stay" in o).sum())
    assert len(cal.for_outcome("Length_Of_Stay")) == len(cal.for_outcome("los")) == listed
    with pytest.warns(ConfoundingWarning, match="Did you mean 'emergency_admissions'"):
        assert len(cal.for_outcome("emergency_admisions")) == 0
    policy = raw["policy"].where(raw["policy"] != "", raw["event_id"])
    assert len(cal.policy_events("ASC_Discharge_Fund_2022")) == int((policy == "asc_discharge_fund_2022").sum()) > 1
    with pytest.raises(SpecificationError, match="Did you mean 'asc_discharge_fund_2022'"):
        cal.policy_events("asc_discharge_fund")
    up = cal.check("ics_golive_2022", outcome="Emergency_Admissions")
    assert list(up.table["event_id"]) == list(cal.check("ics_golive_2022", outcome=OUTCOME).table["event_id"])


def test_cli_nation_level_case(capsys):
    args = ["calendar", "check", "--intervention", "ics_golive_2022", "--outcome", OUTCOME]
    assert main([*args, "--nation", "England", "--strict"]) == 1
    assert main([*args, "--nation", "england", "--strict"]) == 1
    first = capsys.readouterr().out.split("\n\n")[0]
    assert main([*args, "--level", "icb"]) == 0
    icb = capsys.readouterr().out.splitlines()[0]
    assert main([*args, "--level", "ICB"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == icb
    assert main([*args, "--nation", "france"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evalint: error: nation='france'") and "England" in err[0]
    assert "passed" not in first


# 2. a user's events CSV --------------------------------------------------------------
def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "local.csv"
    path.write_text("event_id,name,start_date,source,nation,outcomes_affected,expected_direction\n" + rows)
    return path


def test_user_csv_case_is_normalised_and_flagged(tmp_path):
    path = _write(tmp_path, "local_a,Local scheme,2022-07-15,minutes,england,Emergency_Admissions,"
                            "emergency_admissions:Down\nlocal_b,Local ward,2022-08-01,minutes,ENGLAND,los,\n")
    before = path.read_bytes()
    local = PolicyCalendar.from_csv(path)
    a, b = local.get("local_a"), local.get("local_b")
    assert (a.nation, a.outcomes, dict(a.direction)) == ("England", (OUTCOME,), {OUTCOME: "down"})
    assert (b.nation, b.outcomes) == ("England", ("length_of_stay",))
    res = PolicyCalendar.default().combine(local).check("2022-07-01", outcome=OUTCOME)
    assert {"local_a", "local_b"} <= set(res.table["event_id"])  # b through length of stay
    assert path.read_bytes() == before


@pytest.mark.parametrize("row,column,value", [
    ("local_a,Local,2022-07-15,minutes,Englnd,emergency_admissions,\n", "nation", "Englnd"),
    ("local_a,Local,2022-07-15,minutes,England,emergency_admissions,emergency_admisions:down\n",
     "expected_direction", "emergency_admisions"),
])
def test_user_csv_unknown_values_refused(tmp_path, row, column, value):
    path = _write(tmp_path, row)
    with pytest.raises(InvalidValueError) as err:
        PolicyCalendar.from_csv(path)
    msg = str(err.value)
    assert "row 2 (event_id 'local_a')" in msg and f"{column}={value!r}" in msg and "Did you mean" in msg


def test_cli_user_csv_typo_is_an_error(tmp_path, capsys):
    path = _write(tmp_path, "local_a,Local,2022-07-15,minutes,Englnd,emergency_admissions,\n")
    rc = main(["calendar", "check", "--intervention", "2022-07-01", "--outcome", OUTCOME, "--csv", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "local_a" in err[0] and "nation" in err[0]


# 3. coverage ---------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["1900-01-01", "2030-01-01"])
def test_window_outside_the_calendar_is_not_a_pass(cal, raw, when, capsys):
    res = cal.check(when, outcome=OUTCOME, pre=24, post=12)
    assert res.passed is None and len(res.table) == 0
    # the shipped calendar covers its earliest event to its review date (December 2026, its
    # first day; methods/policy_churn.md)
    first, last = raw["start"].min().date(), "2026-12-01"
    note = [f for f in res.flags if f.event_id is None]
    assert len(note) == 1 and note[0].severity == "medium"
    assert f"covers {first} to {last}" in note[0].message and f"covers {first} to {last}" in res.text
    args = ["calendar", "check", "--intervention", when, "--outcome", OUTCOME]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("NOTICE: Policy calendar coverage") and "[passed]" not in out


def test_coverage_of_a_small_calendar():
    def ev(i: str, start: str, **kw) -> PolicyEvent:
        return PolicyEvent(id=i, name=i, start=start, source="test", **kw)

    # a listed co-timed event (high for a single series) and one unrelated event per end
    inside = PolicyCalendar([ev("a", "2019-01-01"), ev("z", "2024-01-01")])
    assert inside.coverage == (pd.Timestamp("2019-01-01"), pd.Timestamp("2024-01-01"))
    # window 2020-07..2023-06 inside 2019-01-01..2024-01-01
    assert inside.check("2022-07-01", outcome=OUTCOME, design="its").passed is True
    # window to 2024-06-30: 2024-01-02 to 2024-06-30 is not covered
    late = inside.check("2023-07-01", outcome=OUTCOME, design="its")
    assert late.passed is None and "2024-01-02 to 2024-06-30" in late.text
    hit = inside.add(ev("h", "2023-08-01", outcomes=OUTCOME, magnitude="large"))
    failed = hit.check("2023-07-01", outcome=OUTCOME, design="its")
    assert failed.passed is False  # a failure stays one; its reason first, then the coverage note
    assert failed.text.startswith("Policy calendar check") and "Not established for 2024-01-02" in failed.text
    assert PolicyCalendar([]).check("2022-07-01", outcome=OUTCOME).passed is None


# 4. period ends -------------------------------------------------------------------------
@pytest.mark.parametrize("lo,hi,first,last", [
    ("2022", "2022", "2022-01-01", "2022-12-31"),
    ("2022Q3", "2022Q3", "2022-07-01", "2022-09-30"),
    ("Jul-22", "2022-07", "2022-07-01", "2022-07-31"),
    ("2022-02-15", "2022-02", "2022-02-15", "2022-02-28"),  # was refused: end 1 Feb before start
])
def test_period_end_is_its_last_day(cal, raw, capsys, lo, hi, first, last):
    n = _active(raw, first, last)
    assert len(cal.between(lo, hi)) == n
    assert main(["calendar", "list", "--from", lo, "--to", hi]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{n} event(s) active between {first} and {last}."


def test_to_alone_and_bad_periods(cal, raw, capsys):
    assert main(["calendar", "list", "--to", "2022"]) == 0
    n = int((raw["start"] <= pd.Timestamp("2022-12-31")).sum())
    assert capsys.readouterr().out.splitlines()[0] == f"{n} event(s) active between ... and 2022-12-31."
    assert len(cal.between(pd.Period("2022Q3", "Q"), pd.Period("2022Q3", "Q"))) == \
        _active(raw, "2022-07-01", "2022-09-30")
    with pytest.raises(TimeParseError, match="not a valid month"):
        cal.between("2022-01", "2022-13")


def test_ambiguous_intervention_date_says_so(cal):
    with pytest.raises(TimeParseError, match="day-first"):
        cal.check("01/07/2022", outcome=OUTCOME)
    assert cal.check("ICS_golive_2022", outcome=OUTCOME).text == cal.check("ics_golive_2022", outcome=OUTCOME).text


# ---------------------------------------------------------------------------------
# a local event's unit ids in another case than the panel's
_TREATED = ["QHG", "QHM", "QJK"]
_COMPARISON = ["QKK", "QKS", "QJ2"]


def _local_row(cal: PolicyCalendar, units: tuple[str, ...]) -> pd.DataFrame:
    local = cal.add(id="local_x", name="Local discharge scheme", start="2022-08-01",
                    scope="subset", units=units, kind="funding",
                    outcomes=("delayed_discharges",), source="local")
    table = local.check("2022-07-01", outcome="delayed_discharges", treated_units=_TREATED,
                        comparison_units=_COMPARISON).table
    return table[table["event_id"] == "local_x"]


def test_local_event_units_in_lower_case_still_hit_the_treated_units(cal: PolicyCalendar) -> None:
    # 2 of 3 treated units hit, 0 of 3 comparison: exposure 2/3 vs 0, standardised difference
    # (2/3 - 0) / sqrt((var_t + var_c) / 2) with sample variances var_t = 1/3, var_c = 0
    expected_smd = (2 / 3) / ((1 / 3 + 0) / 2) ** 0.5
    exact = _local_row(cal, ("QHG", "QHM"))
    assert exact["smd"].iloc[0] == pytest.approx(expected_smd)
    with pytest.warns(ConfoundingWarning, match=r"1 calendar event\(s\) \('local_x'\).*only when case is "
                      r"ignored \('qhg' as 'QHG', 'qhm' as 'QHM'\)"):
        lower = _local_row(cal, ("qhg", "qhm"))
    assert len(lower) == 1  # was dropped: matched case-sensitively it hit no evaluated unit
    assert lower["smd"].iloc[0] == pytest.approx(expected_smd)
    assert lower["severity"].iloc[0] == exact["severity"].iloc[0] == "high"


def test_lower_case_panel_ids_match_the_shipped_upper_case_codes(cal: PolicyCalendar) -> None:
    # the shipped events list ICB codes in upper case; a panel's lower-case ids get the same table
    # and one warning (not one per event, and not telling the user to fix the shipped calendar)
    upper = cal.check("2021-06-01", outcome=OUTCOME, treated_units=_TREATED, comparison_units=_COMPARISON).table
    with pytest.warns(ConfoundingWarning) as record:
        lower = cal.check("2021-06-01", outcome=OUTCOME, treated_units=[u.lower() for u in _TREATED],
                          comparison_units=[u.lower() for u in _COMPARISON]).table
    case = [w for w in record if "only when case is ignored" in str(w.message)]
    assert len(case) == 1 and "the same way in the panel and the calendar" in str(case[0].message)
    pd.testing.assert_frame_equal(upper.drop(columns="reason"), lower.drop(columns="reason"))
