"""Names the calendar cannot know in advance are accepted, with a warning, not refused.

A policy of the full calendar that a filtered calendar lacks gives no rows; collections,
geographic levels and a user's own outcomes are open vocabularies (a name no event uses is
legitimate) and get one ConfoundingWarning with the closest known name; the shipped calendar
covers to its review date. Expected values are read from the packaged ``events.csv`` with
plain pandas (not through evalint).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from evalint.calendar import PolicyCalendar, PolicyEvent
from evalint.cli import main
from evalint.errors import ConfoundingWarning, SpecificationError

REPO = Path(__file__).resolve().parents[2]
OUTCOME = "emergency_admissions"
#: The shipped calendar's review (December 2026, methods/policy_churn.md), its first day.
REVIEWED = pd.Timestamp("2026-12-01")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    df = pd.read_csv(REPO / "evalint" / "calendar" / "events.csv", dtype=str, keep_default_na=False)
    df["policy"] = df["policy"].where(df["policy"] != "", df["event_id"])
    return df


@pytest.fixture(scope="module")
def cal() -> PolicyCalendar:
    return PolicyCalendar.default()


def _confounding(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, ConfoundingWarning)]


# 1. policy_events on a filtered calendar --------------------------------------------------
def test_policy_of_the_full_calendar_on_a_filtered_one(cal, raw):
    wales = raw["nation"].isin(["Wales", "UK"])
    assert (raw["policy"] == "bcf_2015_16").any()
    n = int((wales & (raw["policy"] == "bcf_2015_16")).sum())
    assert n == 0 and len(cal.for_nation("Wales").policy_events("bcf_2015_16")) == n
    assert len(cal.for_nation("Wales").policy_events("BCF_2015_16")) == 0
    in_2022 = cal.between("2022", "2022")
    assert len(in_2022.policy_events("bcf_2015_16")) == 0
    # a name no event of the full calendar has is still refused
    with pytest.raises(SpecificationError, match="Did you mean 'bcf_2015_16'"):
        cal.for_nation("Wales").policy_events("bcf_2015")


# 2. collections and levels: open vocabularies --------------------------------------------
@pytest.mark.parametrize("kw", [{"collection": "rtt"}, {"collection": "mhsds"},
                                {"collection": "gp_appointments"}, {"level": "pcn"},
                                {"level": "lsoa"}, {"level": "nhs_region"}])
def test_unknown_collection_or_level_runs_with_one_warning(cal, kw):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = cal.check("2022-07-01", outcome=OUTCOME, **kw)
    msgs = _confounding(rec)
    assert res.passed is False  # the high threats of July 2022 are still found
    assert len(msgs) == 1 and f"{next(iter(kw))}={next(iter(kw.values()))!r}" in msgs[0]


def test_unknown_collection_skips_only_collection_scoped_changes(cal, raw):
    scoped = set(raw["event_id"][(raw["collections"] != "") & (raw["kind"] == "data_definition_change")])
    unset = set(cal.check("2020-04-01", outcome="delayed_discharges").table["event_id"])
    with pytest.warns(ConfoundingWarning, match="collection='RTT'"):
        rtt = set(cal.check("2020-04-01", outcome="delayed_discharges", collection="RTT").table["event_id"])
    assert unset & scoped and not rtt & scoped and rtt == unset - scoped


@pytest.mark.parametrize("kw,close", [({"collection": "sitrp"}, "discharge_sitrep"),
                                      ({"level": "icbs"}, "icb")])
def test_misspelt_collection_or_level_says_did_you_mean(cal, kw, close):
    with pytest.warns(ConfoundingWarning, match=f"did you mean '{close}'"):
        cal.check("2022-07-01", outcome=OUTCOME, **kw)


def test_cli_unknown_collection_and_level_run(capsys):
    args = ["calendar", "check", "--intervention", "2022-07-01", "--outcome", OUTCOME]
    assert main([*args, "--collection", "rtt"]) == 0
    assert main([*args, "--level", "pcn"]) == 0
    err = capsys.readouterr().err
    assert "collection='rtt'" in err and "level='pcn'" in err and "error" not in err
    assert main([*args, "--nation", "Englnd"]) == 2  # nation stays a closed set


# 3. a user's own outcomes ------------------------------------------------------------------
def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "local.csv"
    path.write_text("event_id,name,start_date,source,nation,outcomes_affected,expected_direction\n" + rows)
    return path


def test_user_csv_with_own_outcome(tmp_path, cal):
    path = _write(tmp_path, "local1,Local GP access scheme,2022-09-01,council minutes,England,"
                            "GP_Appointments;los,gp_appointments:up\n"
                            "local2,Local ward,2022-10-01,minutes,England,gp_appointments,\n")
    before = path.read_bytes()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        local = PolicyCalendar.from_csv(path)
    msgs = _confounding(rec)
    assert len(msgs) == 1 and "'gp_appointments'" in msgs[0] and str(path) in msgs[0]
    assert local.get("local1").outcomes == ("gp_appointments", "length_of_stay")
    assert dict(local.get("local1").direction)["gp_appointments"] == "up"
    res = cal.combine(local).check("2022-07-01", outcome="gp_appointments")
    assert {"local1", "local2"} <= set(res.table["event_id"])
    assert path.read_bytes() == before


def test_user_csv_misspelt_outcome_warns_with_did_you_mean(tmp_path):
    path = _write(tmp_path, "local_a,Local,2022-07-15,minutes,England,emergency_admisions,\n")
    with pytest.warns(ConfoundingWarning, match="'emergency_admisions' \\(did you mean 'emergency_admissions'\\?\\)"):
        PolicyCalendar.from_csv(path)


def test_for_outcome_unknown_is_empty(cal):
    with pytest.warns(ConfoundingWarning, match="custom_x"):
        assert len(cal.for_outcome("custom_x")) == 0
    local = PolicyCalendar([PolicyEvent(id="a", name="a", start="2022-01-01", source="s",
                                        outcomes="Custom_X")])
    assert len(local.for_outcome("custom_x")) == 1


# 4. coverage to the review date ------------------------------------------------------------
def test_default_coverage_runs_to_the_review_date(cal, raw):
    assert pd.to_datetime(raw["start_date"]).max() < REVIEWED
    assert cal.coverage == (pd.to_datetime(raw["start_date"]).min(), REVIEWED)
    # window 2024-10 .. 2026-09: covered
    ok = cal.check("2025-10-01", outcome=OUTCOME, pre=12, post=12)
    assert ok.passed is not None and not [f for f in ok.flags if f.event_id is None]
    assert not ok.text.startswith("Not established")
    # window 2025-07 .. 2027-06: not covered after the review date
    late = cal.check("2026-07-01", outcome=OUTCOME, pre=12, post=12)
    assert late.passed is not True
    assert "Not established for 2026-12-02 to 2027-06-30" in late.text


def test_cli_strict_passes_a_window_to_2026_09(raw, capsys):
    # no event lists mortality in 2024-10 .. 2026-09, so the strict check passes once covered
    last = pd.to_datetime(raw["end_date"].where(raw["end_date"] != "", raw["start_date"]))
    hits = raw["outcomes_affected"].str.contains("mortality") & (last >= "2024-10-01") & \
        (pd.to_datetime(raw["start_date"]) <= "2026-09-30")
    assert not hits.any()
    args = ["calendar", "check", "--intervention", "2025-10-01", "--outcome", "mortality",
            "--pre", "12", "--post", "12", "--strict"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "NOTICE" not in out and "[passed]" in out


def test_user_calendar_coverage(cal):
    local = PolicyCalendar([PolicyEvent(id="a", name="a", start="2019-01-01", source="s"),
                            PolicyEvent(id="z", name="z", start="2024-01-01", source="s")])
    assert local.coverage == (pd.Timestamp("2019-01-01"), pd.Timestamp("2024-01-01"))
    declared = local.with_coverage("2019-01-01", "2025-06")
    assert declared.coverage == (pd.Timestamp("2019-01-01"), pd.Timestamp("2025-06-30"))
    assert declared.check("2024-07-01", outcome=OUTCOME, pre=12, post=12).passed is True
    assert local.check("2024-07-01", outcome=OUTCOME, pre=12, post=12).passed is None
    later = PolicyCalendar([PolicyEvent(id="x", name="x", start="2027-03-01", source="s")])
    assert cal.combine(later).coverage == (cal.coverage[0], pd.Timestamp("2027-03-01"))
    assert cal.between("2015", "2016").coverage == (pd.Timestamp("2015-01-01"), pd.Timestamp("2016-12-31"))
