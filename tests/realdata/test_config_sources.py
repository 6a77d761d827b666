"""``[data] source = "<name>"`` in an evalint evaluate configuration."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint.errors import SpecificationError
from evalint.evaluate.config import build_panel, load_config


def _write(tmp_path, data: str):
    p = tmp_path / "c.toml"
    p.write_text(f"[data]\n{data}\n[evaluation]\nintervention = \"asc_discharge_fund_2022\"\n")
    return load_config(p)


def test_unknown_and_non_panel_sources(tmp_path):
    with pytest.raises(SpecificationError, match="panel sources"):
        build_panel(_write(tmp_path, 'source = "no_such_source"'))
    with pytest.raises(SpecificationError, match="cross-section"):
        build_panel(_write(tmp_path, 'source = "bcf_2022_23_intermediate_care"'))
    with pytest.raises(SpecificationError, match="path or source"):
        build_panel(_write(tmp_path, 'source = "dtoc_england"\npath = "x.csv"\ntime = "period"\noutcomes = ["a"]'))


@pytest.mark.realdata
def test_icb_criteria_to_reside_by_name(tmp_path, realdata_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = build_panel(_write(tmp_path, 'source = "healthyr_icb_criteria_to_reside"\ndenominator = "65+"'))
    assert panel.n_units == 42 and panel.n_periods == 41  # Apr 2022 - Aug 2025
    # the published daily ICB rows, read with pandas: monthly mean of the days with a non-zero value
    raw = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_icb_criteria_to_reside.csv")
    jan = raw.loc[(raw["icb22_code"] == "E54000057") & raw["date"].str.startswith("2023-01")]
    expected = jan.loc[jan["do_not_meet_criteria_to_reside"] > 0, "do_not_meet_criteria_to_reside"].mean()
    d = panel.data
    row = d.loc[(d[panel.unit] == "E54000057") & (d[panel.time] == pd.Period("2023-01", "M"))]
    assert row["do_not_meet_criteria_to_reside"].iat[0] == pytest.approx(expected)
    assert panel.population == "population"


@pytest.mark.realdata
def test_england_series_by_name(tmp_path, realdata_root):
    panel = build_panel(_write(tmp_path, 'source = "ae_england_timeseries"'))
    assert panel.n_units == 1 and panel.n_periods == 164
