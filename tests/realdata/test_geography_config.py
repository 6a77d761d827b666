"""``evalint evaluate`` TOML: ``geography``, ``attribution``, ``splits`` and ``denominator`` in
``[data]`` turn trust rows into an ICB x month panel with ONS populations.

Outside facts: the trust file's England sums (read here with pandas) and the ONS mid-2020 65+
population of an ICB (population_icb_ltla), which every month after June 2020 carries.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from evalint.errors import SpecificationError
from evalint.evaluate.config import build_panel, load_config

pytestmark = pytest.mark.realdata
EA = "total_emergency_admissions"


@pytest.fixture()
def trust_csv(realdata_root, tmp_path):
    t = pd.read_csv(realdata_root / "healthyr_nhse_uec" / "england_trust_accidents_emergency.csv")
    t["month"] = pd.to_datetime(t["date"], format="%B %Y")
    t = t[(t["month"] >= "2021-09-01") & (t["month"] <= "2022-12-01")]
    t[["nhs_trust22_code", "month", EA]].to_csv(tmp_path / "trusts.csv", index=False)
    return t


def _config(tmp_path, extra: str) -> object:
    text = textwrap.dedent("""
        [data]
        path = "trusts.csv"
        unit = "nhs_trust22_code"
        time = "month"
        outcomes = ["total_emergency_admissions"]
        """) + textwrap.dedent(extra)
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "c.toml")


def test_geography_and_denominator_build_an_icb_panel(trust_csv, tmp_path, realdata_root):
    cfg = _config(tmp_path, """
        geography = "icb2022"
        attribution = "catchment"
        splits = { RW6 = "RM3" }
        denominator = "65+"
        """)
    panel = build_panel(cfg)
    frame = panel.data
    assert panel.unit == "icb22_code" and panel.population == "population"
    assert frame["icb22_code"].nunique() == 42 and panel.n_periods == 16
    england = frame.groupby(panel.time)[EA].sum().to_numpy()
    want = trust_csv.groupby("month")[EA].sum().to_numpy()
    assert abs(england - want).max() < 1e-6
    pop = pd.read_csv(realdata_root / "population_icb_ltla" / "icb22_population_mye_2017_2019_2020.csv")
    gm = pop.query("mid_year == 2020 and icb22_code == 'E54000057'")["pop_65plus"].iloc[0]
    assert frame.loc[frame["icb22_code"] == "E54000057", "population"].round(6).unique().tolist() == [gm]


def test_geography_keys_are_checked(trust_csv, tmp_path):
    with pytest.raises(SpecificationError, match="icb2022"):
        build_panel(_config(tmp_path, 'geography = "icb2026"\n'))
    with pytest.raises(SpecificationError, match="need geography"):
        build_panel(_config(tmp_path, 'attribution = "host"\n'))
    with pytest.raises(Exception, match="RW6"):  # split predecessor without splits=
        build_panel(_config(tmp_path, 'geography = "icb2022"\n'))


def test_suppressed_trust_cells_are_named_not_reported_as_a_missing_column(trust_csv, tmp_path):
    from evalint.errors import NonNumericError

    t = trust_csv[["nhs_trust22_code", "month", EA]].astype({EA: object})
    t.iloc[[3, 7], t.columns.get_loc(EA)] = "*"
    t.to_csv(tmp_path / "trusts.csv", index=False)
    cfg = _config(tmp_path, 'geography = "icb2022"\nsplits = {RW6 = "R0A"}\n')
    # before: "column 'total_emergency_admissions' not in the frame; columns: 'nhs_trust22_code',
    # 'month'" (the text column was dropped while merged trusts were summed)
    with pytest.raises(NonNumericError, match=r"outcome column 'total_emergency_admissions'.*'\*'.*rows 3, 7"):
        build_panel(cfg)
