"""``evalint calendar`` through :func:`evalint.cli.main`.

Expected ids and sources are read from the packaged calendar CSV with plain pandas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalint.cli import main

REPO = Path(__file__).resolve().parents[2]
DONE = ["discharge_100_day_challenge", "hds_policy_operating_model", "hdcs_policy_2021",
        "d2a_national_funding_ends", "asc_discharge_fund_2022_23", "discharge_fund_200m_jan2023",
        "rcn_strike_dec2022"]


@pytest.fixture(scope="module")
def sources() -> pd.Series:
    df = pd.read_csv(REPO / "evalint" / "calendar" / "events.csv", dtype=str, keep_default_na=False)
    return df.set_index("event_id")["source"]


def _rows(out: str) -> dict[str, str]:
    """Table lines keyed by the event id in them (the token under the ``event_id`` header)."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if "event_id" in line.split())
    col = lines[header].index("event_id")
    rows = {}
    for line in lines[header + 2:]:
        if not line.strip():
            break
        rows[line[col:].split()[0]] = line
    return rows


def test_check_done_criterion(capsys, sources):
    rc = main(["calendar", "check", "--intervention", "ics_golive_2022",
               "--outcome", "emergency_admissions", "--pre", "24", "--post", "12"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = _rows(out[out.index("All flagged events"):])
    for eid in DONE:
        assert eid in rows, eid
        # the (possibly truncated) source is printed on the event's row
        shown = rows[eid].split("  ")[-1].strip()
        assert sources[eid].startswith(shown.removesuffix("...")), eid
    assert "icb_statutory_go_live" not in out
    assert "* COVID-19 Delta" in rows["covid_delta"]  # unverified marker
    assert "* " not in rows["rcn_strike_dec2022"]
    assert "FAILED" in out and "2020-07 to 2023-06" in out
    # the ranked list comes first: at most five numbered lines, each with event id and name
    head = out[:out.index("[FAILED]")]
    ranked = [line for line in head.splitlines() if line[:2] in {f"{i}." for i in range(1, 10)}]
    assert 1 <= len(ranked) <= 5
    assert ranked[0].startswith("1. winter_2022_23_pressure  Winter 2022/23")
    assert max(len(line) for line in out.splitlines()) <= 140


def test_check_full_prints_whole_sources(capsys, sources):
    main(["calendar", "check", "--intervention", "ics_golive_2022", "--outcome",
          "emergency_admissions", "--full"])
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert " ".join(sources["rcn_strike_dec2022"].split()) in flat
    assert "reason:" in out and "bed occupancy" in out


def test_check_with_local_events_and_strict(tmp_path, capsys):
    path = tmp_path / "local.csv"
    path.write_text("event_id,name,start_date,outcomes_affected,source\n"
                    "local_frailty_unit,Frailty unit opens,2022-08-01,emergency_admissions,"
                    "trust board minutes Aug 2022\n", encoding="utf-8")
    rc = main(["calendar", "check", "--intervention", "2022-07-01", "--outcome",
               "emergency_admissions", "--csv", str(path), "--strict", "--level", "trust"])
    out = capsys.readouterr().out
    assert rc == 1  # co-timed event moving the outcome of the trust's series is high severity
    line = _rows(out[out.index("All flagged events"):])["local_frailty_unit"]
    assert line.startswith("high") and "co_timed" in line and "trust board minutes" in line


def test_check_staggered_and_comparison(capsys):
    rc = main(["calendar", "check", "--intervention", "QHG=2017-06-15,QUE=2021-04-01",
               "--outcome", "delayed_discharges", "--comparison", "QM7,QH8"])
    out = capsys.readouterr().out
    assert rc == 0 and "diff" in out and "comparison design" in out


def test_list_phase_and_intensity(capsys):
    rc = main(["calendar", "list", "--phase", "paid"])
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rc == 0 and "phase" in out and "end_type" in out
    assert {"asc_discharge_fund_2022_tranche1", "asc_discharge_fund_2022_tranche2"} <= set(rows)
    assert all("  paid  " in line for k, line in rows.items() if k != "*")
    rc = main(["calendar", "list", "--phase"])
    assert rc == 0 and "superseded" in _rows(capsys.readouterr().out)["ics_wave3"]
    rc = main(["calendar", "list", "--intensity"])
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rc == 0 and "asc_discharge_fund_2022_23" in rows and "covid_lockdown1" not in rows
    assert "bcf_intermediate_care_2022_23" in rows["asc_discharge_fund_2022_23"]
    assert main(["calendar", "list", "--phase", "launched"]) == 2
    capsys.readouterr()


def test_list_filters(capsys):
    rc = main(["calendar", "list", "--outcome", "delayed_discharges", "--from", "2022-01-01",
               "--to", "2022-12-31"])
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rc == 0
    assert "asc_discharge_fund_2022_23" in rows and "d2a_national_funding_ends" in rows
    assert "rcn_strike_dec2022" not in rows  # does not list delayed discharges
    assert "covid_lockdown1" not in rows  # 2020
    rc = main(["calendar", "list"])
    out = capsys.readouterr().out
    n = len(pd.read_csv(REPO / "evalint" / "calendar" / "events.csv", dtype=str))
    assert out.startswith(f"{n} event(s)") and "scotland_ijbs_live" in out


def test_errors_and_presets(capsys):
    rc = main(["calendar", "check", "--intervention", "ics_golive_2023", "--outcome",
               "emergency_admissions"])
    err = capsys.readouterr().err
    assert rc == 2 and "ics_golive_2022" in err and "vanguards_2015" in err
    rc = main(["calendar", "check", "--intervention", "ics_golive_2022", "--outcome", "widgets"])
    assert rc == 2 and "widgets" in capsys.readouterr().err
    rc = main(["calendar", "list", "--outcome", "widgets"])
    assert rc == 2
    capsys.readouterr()
    assert main(["calendar", "presets"]) == 0
    out = capsys.readouterr().out
    for name in ("ics_golive_2022", "ics_waves", "asc_discharge_fund_2022", "bcf_2015",
                 "vanguards_2015"):
        assert name in out
    assert main(["calendar"]) == 2  # no action: one error line naming them
    assert "list, check, presets" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command_line():
    """``python -m evalint --version`` prints the installed package version, as the console script does."""
    import subprocess
    import sys
    from importlib.metadata import version

    out = subprocess.run([sys.executable, "-m", "evalint", "--version"], capture_output=True, text=True,
                         check=False, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert version("evalint") in out.stdout
