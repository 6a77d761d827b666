"""`evalint demo` end to end: files written, tidy schema, flags, presets not flagged against themselves."""

from __future__ import annotations

import pandas as pd

from evalint.cli import main
from evalint.results import TIDY_COLUMNS


def test_demo_writes_figures_and_tables(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Adult Social Care Discharge Fund" in out and "ICS statutory go-live" in out
    assert "True simulated effect" in out and "Flags" in out
    for name in ("discharge_fund_delayed_discharges.png", "ics_golive_emergency_admissions.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert list(effects.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert set(effects["analysis"]) == {"discharge_fund_delayed_discharges", "ics_golive_emergency_admissions"}
    flags = pd.read_csv(tmp_path / "flags.csv")
    dd = flags[flags.analysis == "discharge_fund_delayed_discharges"]
    # concurrent events are flagged (winter 2022/23 pressure moves delayed discharges) ...
    assert "winter_2022_23_pressure" in set(dd.event_id)
    # ... but the preset's own events never are
    assert not {"asc_discharge_fund_2022_23", "discharge_fund_200m_jan2023"} & set(dd.event_id.dropna())
    ea = flags[flags.analysis == "ics_golive_emergency_admissions"]
    assert "icb_statutory_go_live" not in set(ea.event_id.dropna())
