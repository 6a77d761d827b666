"""Data-quality flags travel from a reader's frame to the Panel, evaluate()'s flags and the report.

* Unit: flags recorded by a reader in ``attrs["evalint_io"]["checks"]`` (or given as CheckResults)
  are kept on the Panel, survive ``subset``, and are listed by ``Evaluation.flags_frame()`` (design
  ``"data"``) and in the report's Data section.
* Real data (marker ``realdata``): the healthyr copy of NHS England's ICB A&E rows repeats February
  and March 2024 as February and March 2025 (documented defect 1 of
  shared/realdata/healthyr_nhse_uec/SOURCE.md); an evaluation on that panel names both months.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.errors import SpecificationError
from evalint.io.quality import quality_checks


def _frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = evalint.simulate_nhs(seed=3, start="2019-01", end="2021-12", covid=False,
                                   adoption=(["QHG", "QUE", "QM7"], "2021-01"))
    return sim.data[["icb_code", "month", "emergency_admissions", "population", "treated"]].copy()


def test_flags_from_reader_attrs_and_explicit_checks():
    f = _frame()
    copied = f["month"] == pd.Period("2021-06", "M")
    f.loc[copied, "emergency_admissions"] = f.loc[f["month"] == pd.Period("2020-06", "M"),
                                                  "emergency_admissions"].to_numpy()
    checks = quality_checks(f.assign(month=f["month"].dt.to_timestamp()), unit="icb_code", time="month",
                            measures=["emergency_admissions"])
    flagged = [fl for c in checks for fl in c.flags]
    assert any("Jun 2021 repeats Jun 2020" in fl.message for fl in flagged)
    g = f.copy()
    g.attrs["evalint_io"] = {"checks": [{"name": c.name, "flags": [fl.as_dict() for fl in c.flags]} for c in checks],
                             "dropped_months": []}
    p = evalint.Panel.from_frame(g, unit="icb_code", time="month", outcome="emergency_admissions",
                                 population="population", treatment="treated")
    assert any("Jun 2021 repeats Jun 2020" in q["message"] for q in p.quality)
    assert p.subset(start="2020-01").quality == p.quality
    explicit = evalint.Panel.from_frame(f, unit="icb_code", time="month", outcome="emergency_admissions",
                                        quality=checks)
    assert [q["message"] for q in explicit.quality] == [fl.message for fl in flagged]
    assert evalint.Panel.from_frame(g, unit="icb_code", time="month", outcome="emergency_admissions",
                                    quality=()).quality == ()
    with pytest.raises(SpecificationError, match="not a flag"):
        evalint.Panel.from_frame(f, unit="icb_code", time="month", outcome="emergency_admissions", quality=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evalint.evaluate(p, designs=["did"], fast=True, calendar=False)
    ff = ev.flags_frame()
    data = ff[ff["design"] == "data"]
    assert len(data) == len(flagged) and data["kind"].eq("data").all()
    from evalint.report.content import build_report

    _, sections = build_report(ev)
    body = repr([s.__dict__ for s in sections if s.title == "Data"])
    assert "Data-quality flags" in body and "Jun 2021 repeats Jun 2020" in body


@pytest.mark.realdata
def test_copied_months_of_the_real_icb_file_reach_the_evaluation(realdata_root):
    from evalint.io.healthyr import read_healthyr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = read_healthyr(realdata_root / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv")
    f = f[f["period"] < "2025-02-01"].rename(columns={"total_emergency_admissions": "emergency_admissions"})
    f = f.assign(treated=((f["org_code"].isin(sorted(f["org_code"].unique())[:4]))
                          & (f["period"] >= "2024-04-01")).astype(int))
    p = evalint.Panel.from_frame(f[["org_code", "period", "emergency_admissions", "treated"]], unit="org_code",
                                 time="period", outcome="emergency_admissions", treatment="treated")
    months = sorted({q["start"] for q in p.quality if q["source"] == "check_copied_months"})
    assert months == ["2025-02", "2025-03"]  # SOURCE.md, known problem 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evalint.evaluate(p, designs=["did"], fast=True, calendar=False)
    data = ev.flags_frame().query("design == 'data'")
    assert data["message"].str.contains("Feb 2025 repeats Feb 2024").any()
    assert data["message"].str.contains("The reader dropped 2025-03").any()
    assert np.isin(["high"], data["severity"]).all()
