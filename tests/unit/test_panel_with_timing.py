"""Panel.with_timing / Panel.with_values: the panel Panel.from_frame would rebuild, without the round trip.

The reference is Panel.from_frame on the panel's own data with a cohort column (the rebuild
evaluate() and the robustness refits used to make); the input panel and mapping never change.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evalint.data.panel import Panel
from evalint.datasets import simulate_nhs
from evalint.errors import DataError, DroppedRowsWarning, SpecificationError, TreatmentError

ROLES = ("unit", "time", "outcomes", "outcome_kinds", "population", "weights", "covariates", "freq", "cluster")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    d = simulate_nhs(seed=3, start="2019-04", end="2022-03", adoption={"QHG": "2021-04"}).data
    d = d.assign(treated=((d["icb_code"] == "QHG") & (d["month"] >= "2021-04")).astype(int),
                 age65=np.linspace(10, 20, len(d)))
    return d


@pytest.fixture(scope="module")
def panel(frame) -> Panel:
    return Panel.from_frame(frame, unit="icb_code", time="month", outcome=["emergency_admissions", "length_of_stay"],
                            treatment="treated", population="population", weights="spells", covariates=["age65"],
                            cluster="region")


def _rebuild(panel: Panel, cohort: dict) -> Panel:
    d = panel.data
    d["_cohort"] = d[panel.unit].map(cohort)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(d, unit=panel.unit, time=panel.time, outcome=list(panel.outcomes), cohort="_cohort",
                                population=panel.population, weights=panel.weights,
                                covariates=list(panel.covariates), freq=panel.freq,
                                outcome_kind=dict(panel.outcome_kinds), cluster=panel.cluster)


def _same(a: Panel, b: Panel) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_series_equal(a.timing.cohort, b.timing.cohort)
    for role in ROLES:
        assert getattr(a, role) == getattr(b, role), role
    assert a.treatment is None and b.treatment is None
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize("cohort", [
    {"QHG": "2021-04", "QUE": "2020-10"},
    {"QHG": pd.Period("2021-04", "M"), "QM7": "2022-03", "QH8": None},
    {},
])
def test_same_panel_as_the_rebuild(panel, cohort):
    _same(panel.with_timing(cohort), _rebuild(panel, cohort))


def test_a_series_with_every_unit(panel):
    cohort = pd.Series(pd.NaT, index=panel.units, dtype="period[M]")
    cohort["QUE"] = pd.Period("2020-01", "M")
    _same(panel.with_timing(cohort), _rebuild(panel, cohort.to_dict()))


def test_input_not_mutated(panel):
    before = panel.data.copy(deep=True)
    timing = panel.timing.cohort.copy()
    cohort = {"QHG": "2021-04"}
    out = panel.with_timing(cohort)
    pd.testing.assert_frame_equal(panel.data, before)
    pd.testing.assert_series_equal(panel.timing.cohort, timing)
    assert panel.treatment == "treated" and "treated" in panel.data.columns
    assert cohort == {"QHG": "2021-04"}
    assert "treated" not in out.data.columns


def test_keeps_rows_dropped_and_cluster(frame):
    f = frame.copy()
    f.loc[f.groupby("icb_code").head(1).index[:3], "length_of_stay"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(f, unit="icb_code", time="month", outcome="length_of_stay", missing="drop",
                             cluster="region")
    out = p.with_timing({"QHG": "2021-04"})
    assert out.dropped == {"missing_values": 3}
    assert out.cluster == "region" and out.n_clusters == p.n_clusters


def test_unit_treated_in_its_first_period_is_dropped_as_from_frame_does(frame):
    f = frame.loc[~((frame["icb_code"] == "QUE") & (frame["month"] < "2020-06"))]
    p = Panel.from_frame(f, unit="icb_code", time="month", outcome="emergency_admissions")
    cohort = {"QUE": "2020-06", "QHG": "2021-04"}
    with pytest.warns(DroppedRowsWarning, match="QUE"):
        out = p.with_timing(cohort)
    _same(out, _rebuild(p, cohort))
    assert out.dropped == {"treated_in_first_period": 1}


def test_errors_name_the_fault(panel):
    with pytest.raises(SpecificationError, match="XXX"):
        panel.with_timing({"XXX": "2021-04"})
    with pytest.raises(TreatmentError, match="outside the data"):
        panel.with_timing({"QHG": "2030-01"})
    with pytest.raises(TreatmentError, match="first period"):
        panel.with_timing({u: "2019-04" for u in panel.units})


def test_with_values(panel):
    before = panel.data.copy(deep=True)
    logs = np.log(panel.data["emergency_admissions"].to_numpy())
    out = panel.with_values({"emergency_admissions": logs})
    np.testing.assert_array_equal(out.data["emergency_admissions"].to_numpy(), logs)
    pd.testing.assert_frame_equal(panel.data, before)
    pd.testing.assert_series_equal(out.data["length_of_stay"], panel.data["length_of_stay"])
    with pytest.raises(SpecificationError, match="population"):
        panel.with_values({"population": logs})
    with pytest.raises(SpecificationError, match="rows"):
        panel.with_values({"emergency_admissions": logs[:-1]})
    with pytest.raises(DataError, match="finite"):
        panel.with_values({"emergency_admissions": np.where(logs > 0, np.inf, logs)})
    with pytest.raises(DataError, match="count"):
        panel.with_values({"emergency_admissions": -np.abs(logs)})


def test_retime_keeps_the_declared_cluster(panel):
    from evalint.sensitivity.refit import retime

    out = retime(panel, ["QHG"], pd.Period("2021-04", "M"))
    assert out.cluster == "region"
    assert list(out.timing.treated_units) == ["QHG"]
