"""Every setting a user gives ``evaluate()`` or its TOML configuration takes effect or is refused.

Each case below was dropped silently (or refused with a message that contradicted itself): a
``treated=`` list beside a staggered preset, a treatment column overridden by an intervention,
design options with a typo or a bad value (a failed design inside an otherwise "successful"
run), unit codes with leading zeros, ``[data]`` keys beside ``[data.simulate]``, a CSV header
naming a column twice, ``treated="QHG"`` read letter by letter, a date on an ordinal axis.
Nothing here fits a design: every refusal comes before the first fit, and the accepted cases
are checked on the assignment (which units are treated from when), whose truth is the data
written in the test.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from evalint import Panel, evaluate
from evalint.cli import main
from evalint.datasets import simulate_nhs
from evalint.calendar.presets import resolve_preset
from evalint.errors import ConfigError, DataError, EvalintError, SpecificationError
from evalint.evaluate.config import build_panel, evaluate_kwargs, load_config, read_table
from evalint.evaluate.designs import resolve_assignment

UNITS = ["QHG", "QE1", "QF7", "QGH", "QH8", "QHL"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    sim = simulate_nhs(seed=1, start="2016-04", end="2022-03", units=UNITS, covid=False)
    cols = ["icb_code", "month", "emergency_admissions", "population"]
    return sim.data[cols].assign(month=lambda f: f["month"].astype(str)).reset_index(drop=True)


@pytest.fixture(scope="module")
def panel(frame) -> Panel:
    return Panel.from_frame(frame, unit="icb_code", time="month", outcome="emergency_admissions",
                            population="population")


def _no_fit(*args):
    raise AssertionError("a design was fitted before the settings were refused")


# ----------------------------------------------------------------------------- 1. treated + staggered preset
def test_treated_with_a_staggered_preset_is_refused(panel):
    with pytest.raises(SpecificationError) as err:
        evaluate(panel, "ics_waves", treated=["QHG"], designs=["its"], fast=True, progress=_no_fit)
    msg = str(err.value)
    # the preset's own date for QHG (ICS wave 1, methods/policy_churn.md) is offered as the mapping
    assert "ics_waves" in msg and "treated=" in msg and "[evaluation.intervention]" in msg
    wave = resolve_preset("ics_waves").unit_dates["QHG"]  # the preset's date for QHG, as an example
    assert f'[evaluation.intervention] QHG = "{wave:%Y-%m}"' in msg
    # the preset alone is still a staggered roll-out over every unit of the panel
    a = resolve_assignment(panel, "ics_waves")
    assert sorted(a.treated_units) == sorted(UNITS) and a.is_staggered


# ----------------------------------------------------------------------------- 2. treatment column vs intervention
def test_treatment_column_contradicted_by_the_intervention_is_refused(frame):
    d = frame.assign(tr=((frame["icb_code"] == "QE1") & (frame["month"] >= "2021-01")).astype(int))
    p = Panel.from_frame(d, unit="icb_code", time="month", outcome="emergency_admissions",
                         population="population", treatment="tr")
    with pytest.raises(SpecificationError) as err:
        evaluate(p, "2021-07", treated=["QHG"], designs=["did"], fast=True, progress=_no_fit)
    msg = str(err.value)
    assert "treatment column 'tr'" in msg and "'QE1': treated from 2021-01 by the panel" in msg
    assert "'QHG': never treated by the panel" in msg and "[data] treatment" in msg
    # the same timing given twice is accepted: QE1 from 2021-01, the others comparisons
    a = resolve_assignment(p, "2021-01", ["QE1"])
    assert a.treated_units == ["QE1"] and str(a.cohort["QE1"]) == "2021-01"
    assert resolve_assignment(p, None).treated_units == ["QE1"]


def test_panel_timing_given_again_with_a_window_that_ends_before_a_cohort():
    """end= before a later cohort: the intervention equal to the panel's own timing was refused as
    contradicting it (the later cohort is never treated within the window on both readings).
    The same timing given twice gives the evaluation of the panel's own timing."""
    mapping = {"QHG": "2019-04-01", "QJG": "2021-04-01"}
    sim = simulate_nhs(seed=5, adoption=mapping, start="2017-04", end="2023-03")
    kw = {"end": "2020-12", "designs": ["did"], "fast": True, "outcomes": ["emergency_admissions"],
          "robustness": False, "calendar": False}
    given = evaluate(sim.panel, mapping, **kw)
    own = evaluate(sim.panel, None, **kw)
    pd.testing.assert_frame_equal(given.table(), own.table())
    assert given.assignment.treated_units == ["QHG"]


# ----------------------------------------------------------------------------- 3. design options
@pytest.mark.parametrize(("options", "expected"), [
    ({"its": {"seasonalty": "fourier"}}, "unknown option 'seasonalty'. Did you mean 'seasonality'?"),
    ({"its": 1}, "options['its'] must be a mapping"),
    ({"did": {"control": "notyet"}}, "control='notyet' is not supported"),
    ({"did": {"few_treated": "welch"}}, "few_treated='welch' is not supported"),
    ({"did": {"min_e": "a"}}, "min_e = 'a' (str) is not a value it takes"),
    ({"did": {"alpha": 0.1}}, "'alpha' is set by evaluate() itself"),
    ({"sdid": {"eta_omega": -1}}, "eta_omega must be a positive number"),
    ({"scm": {"v_metod": "nested"}}, "Did you mean 'v_method'?"),
    ("its", "options must be a mapping design key -> options"),
])
def test_design_option_mistakes_stop_the_evaluation_before_any_fit(panel, options, expected):
    with pytest.raises(SpecificationError) as err:
        evaluate(panel, "2021-07", treated=["QHG"], options=options, fast=True, progress=_no_fit)
    assert expected in str(err.value)


def test_design_option_mistake_in_the_config_exits_2(tmp_path, frame, capsys):
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "c.toml").write_text(textwrap.dedent("""
        [data]
        path = "d.csv"
        unit = "icb_code"
        time = "month"
        outcomes = ["emergency_admissions"]
        [evaluation]
        intervention = "2021-07"
        treated = ["QHG"]
        designs = ["its", "did"]
        fast = true
        [evaluation.options.its]
        seasonalty = "fourier"
    """))
    assert main(["evaluate", str(tmp_path / "c.toml"), "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evalint: error: ")
    assert "[evaluation.options.its]" in err[0] and "'seasonality'" in err[0]
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- 4. unit codes that look numeric
def _numeric_codes(frame: pd.DataFrame) -> pd.DataFrame:
    codes = {u: f"{i:03d}" for i, u in enumerate(UNITS)}  # QHG -> 000, QE1 -> 001, ...
    return frame.assign(icb_code=frame["icb_code"].map(codes))


def _config(tmp_path: Path, treated: str) -> Path:
    (tmp_path / "c.toml").write_text(textwrap.dedent(f"""
        [data]
        path = "d.csv"
        unit = "icb_code"
        time = "month"
        outcomes = ["emergency_admissions"]
        [evaluation]
        intervention = "2021-07"
        treated = {treated}
    """))
    return tmp_path / "c.toml"


def test_leading_zero_unit_codes_are_read_as_text_and_named_from_toml(tmp_path, frame):
    _numeric_codes(frame).to_csv(tmp_path / "d.csv", index=False)
    assert read_table(tmp_path / "d.csv", unit="icb_code")["icb_code"].iloc[0] == "000"
    cfg = load_config(_config(tmp_path, '["001"]'))
    p = build_panel(cfg)
    assert sorted(p.units) == ["000", "001", "002", "003", "004", "005"]
    a = resolve_assignment(p, "2021-07", evaluate_kwargs(cfg)["treated"])
    assert a.treated_units == ["001"] and len(a.never_treated) == 5
    # an integer is a unit code too (it names no unit here: the codes are '000'..'005')
    cfg = load_config(_config(tmp_path, "[1]"))
    with pytest.raises(SpecificationError, match=r"treated= names unit\(s\) not in the panel: 1\. Panel units: '000'"):
        resolve_assignment(build_panel(cfg), "2021-07", evaluate_kwargs(cfg)["treated"])


def test_plain_integer_unit_codes_stay_numbers_and_match_their_text(tmp_path, frame):
    d = frame.assign(icb_code=frame["icb_code"].map({u: 10 + i for i, u in enumerate(UNITS)}))
    d.to_csv(tmp_path / "d.csv", index=False)
    assert read_table(tmp_path / "d.csv", unit="icb_code")["icb_code"].dtype.kind == "i"
    cfg = load_config(_config(tmp_path, '["11"]'))
    a = resolve_assignment(build_panel(cfg), "2021-07", evaluate_kwargs(cfg)["treated"])
    assert a.treated_units == [11]
    # a code with leading zeros cannot name a numeric unit: the message says why
    p = build_panel(cfg)
    with pytest.raises(SpecificationError, match="leading zeros"):
        resolve_assignment(p, "2021-07", ["011"])


# ----------------------------------------------------------------------------- 5. [data.simulate] with other keys
def test_simulate_refuses_data_keys_it_would_ignore(tmp_path):
    (tmp_path / "c.toml").write_text(textwrap.dedent("""
        [data]
        path = "does_not_exist.csv"
        unit = "nonexistent"
        outcomes = ["emergency_admissions"]
        [data.simulate]
        seed = 1
        [evaluation]
        intervention = "2022-07-01"
    """))
    with pytest.raises(ConfigError, match=r"\[data\] path, unit, outcomes cannot be used with \[data.simulate\]"):
        load_config(tmp_path / "c.toml")


def test_outcome_and_outcomes_together_are_refused(tmp_path):
    (tmp_path / "c.toml").write_text('[data]\npath = "d.csv"\ntime = "month"\noutcomes = ["a", "b"]\n'
                                     'outcome = "c"\n')
    with pytest.raises(ConfigError, match="both outcomes and outcome"):
        load_config(tmp_path / "c.toml")


# ----------------------------------------------------------------------------- 6. a column named twice
def test_csv_header_naming_a_column_twice_is_a_data_error(tmp_path, frame):
    lines = frame.to_csv(index=False).splitlines()
    text = "\n".join([lines[0] + ",emergency_admissions"] + [ln + ",7" for ln in lines[1:]]) + "\n"
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match=r"'emergency_admissions' appears 2 times in the header \(positions 2, 4\)"):
        read_table(tmp_path / "d.csv")


def test_csv_header_names_that_differ_by_a_space_are_two_columns(tmp_path, frame):
    """'adm' and 'adm ' are two columns to pandas, as written; they were refused as 'adm' named twice."""
    lines = frame.to_csv(index=False).splitlines()
    text = "\n".join([lines[0] + ",emergency_admissions "] + [ln + ",7" for ln in lines[1:]]) + "\n"
    (tmp_path / "d.csv").write_text(text)
    table = read_table(tmp_path / "d.csv")
    assert "emergency_admissions " in table.columns and (table["emergency_admissions "] == 7).all()
    pd.testing.assert_series_equal(table["emergency_admissions"], frame["emergency_admissions"], check_dtype=False)


# ----------------------------------------------------------------------------- 7. treated as one string
def test_treated_string_is_one_unit(panel):
    a = resolve_assignment(panel, "2021-07", "QHG")
    assert a.treated_units == ["QHG"] and len(a.never_treated) == len(UNITS) - 1
    with pytest.raises(SpecificationError, match="not in the panel: 'QXX'"):
        resolve_assignment(panel, "2021-07", "QXX")


# ----------------------------------------------------------------------------- 8. a date on an ordinal axis
def test_date_on_an_ordinal_axis_asks_for_a_period_number(frame):
    d = frame.assign(t=frame.groupby("icb_code").cumcount() + 1).drop(columns="month")
    p = Panel.from_frame(d, unit="icb_code", time="t", outcome="emergency_admissions", time_kind="ordinal")
    for value, shown in (("2022-07-01", "intervention='2022-07-01'"), (dt.date(2022, 7, 1), "intervention=2022-07-01")):
        with pytest.raises(EvalintError) as err:
            resolve_assignment(p, value, ["QHG"])
        msg = str(err.value)
        assert shown in msg and "ordinal" in msg and "period number" in msg
        assert "preset" not in msg and "datetime" not in msg


# ----------------------------------------------------------------------------- 9. a byte-order mark
def test_config_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "c.toml").write_bytes(b"\xef\xbb\xbf" + b'[data]\nsimulate = {seed = 1}\n[evaluation]\n'
                                      b'intervention = "2022-07"\n')
    assert load_config(tmp_path / "c.toml").evaluation["intervention"] == "2022-07"


# ----------------------------------------------------------------------------- 9. no unit key, several series
def test_config_without_unit_for_several_series_asks_for_unit(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "c.toml").write_text('[data]\npath = "d.csv"\ntime = "month"\noutcomes = ["emergency_admissions"]\n'
                                     '[evaluation]\nintervention = "2021-07"\n')
    with pytest.raises(ConfigError, match=r"has no unit key.*'month' repeats \(up to 6 rows for one period"):
        build_panel(load_config(tmp_path / "c.toml"))


# ----------------------------------------------------------------------------- the ITS model option, staggered
def test_its_model_option_is_honoured_by_the_per_unit_its():
    """``model`` reached the per-unit ITS as a constructor argument segmented regression does not
    take (an 'unexpected TypeError' failure). For a continuous outcome "ols" and "gls_ar" both mean
    segmented regression with its default interval, as in the aggregate ITS: the same fit as no
    model option."""
    dates = {"QHG": "2022-04", "QE1": "2022-10"}
    sim = simulate_nhs(seed=1, start="2019-04", end="2024-03", units=UNITS, covid=False, adoption=dates)
    kw = dict(outcomes=["length_of_stay"], designs=["its"], fast=True, calendar=False, robustness=False)
    with_model = evaluate(sim.panel, dates, options={"its": {"model": "ols"}}, **kw)
    assert not with_model.failures
    plain_run = evaluate(sim.panel, dates, **kw)
    r, r0 = with_model.result("its_units", "length_of_stay"), plain_run.result("its_units", "length_of_stay")
    assert (r.estimate, r.se) == (r0.estimate, r0.se)
