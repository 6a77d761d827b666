"""Names the calendar cannot know in advance are accepted, with a warning, not refused.

Collections, geographic levels and a user's own outcomes are open vocabularies (a name no event
uses is legitimate) and get one ConfoundingWarning with the closest known name. Expected
values are read from the packaged ``events.csv`` with plain pandas (not through evalint).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from evalint.calendar import PolicyCalendar
from evalint.cli import main
from evalint.errors import ConfoundingWarning

REPO = Path(__file__).resolve().parents[2]
OUTCOME = "emergency_admissions"


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
