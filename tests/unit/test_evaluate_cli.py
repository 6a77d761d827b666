"""`evalint evaluate CONFIG.toml`: a TOML file pointing at a CSV written from simulate_nhs runs,
writes the reports and tables and exits 0; bad configurations exit 2 with a message naming what is
wrong and how to fix it (no traceback).

Numbers asserted come from the simulation's truth table, or from evaluate() called directly
with the same arguments (the CLI must be a faithful front end).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from evalint.cli import main
from evalint.datasets import simulate_nhs

PILOT = {"QHG": "2023-04", "QUE": "2023-04", "QM7": "2023-04"}
EFFECTS = {"emergency_admissions": -0.05, "length_of_stay": -0.3, "delayed_discharges": -0.10}
OUTCOMES = ["emergency_admissions", "length_of_stay", "delayed_discharges"]

GOOD = """
[data]
path = "icb_monthly.csv"
unit = "icb_code"
time = "month"
outcomes = ["emergency_admissions", "length_of_stay", "delayed_discharges"]
population = "population"
weights = "spells"

[evaluation]
start = "2021-07"
seed = 3
fast = true

[evaluation.intervention]
QHG = "2023-04"
QUE = "2023-04"
QM7 = "2023-04"

[output]
dir = "out"
formats = ["html", "md"]
name = "pilot"
"""


@pytest.fixture(scope="module")
def sim():
    return simulate_nhs(seed=11, adoption=PILOT, effects=EFFECTS)


@pytest.fixture(scope="module")
def project(sim, tmp_path_factory) -> Path:
    """A folder with the CSV (month as 'YYYY-MM' text, as an analyst's extract would have it)."""
    root = tmp_path_factory.mktemp("evaluate_cli")
    cols = ["icb_code", "month", *OUTCOMES, "population", "spells"]
    sim.data[cols].assign(month=lambda f: f["month"].astype(str)).to_csv(root / "icb_monthly.csv", index=False)
    (root / "config.toml").write_text(GOOD, encoding="utf-8")
    return root


def _true_percent(sim, outcome: str) -> float:
    t = sim.truth.loc[(sim.truth["outcome"] == outcome) & (sim.truth["treated"] == 1)]
    return float(100 * t["effect"].sum() / t["expected_without"].sum())


@pytest.fixture(scope="module")
def good_run(project):
    """The console script as a user runs it: a subprocess, real exit code, stdout and stderr."""
    proc = subprocess.run([sys.executable, "-m", "evalint.cli", "evaluate", str(project / "config.toml")],
                          capture_output=True, text=True, timeout=600, cwd=project, check=False)
    return proc


def test_evaluate_cli_runs_and_writes_the_report(good_run, project, sim):
    proc = good_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    out = project / "out"
    for name in ("pilot.html", "pilot.md", "triangulation.csv", "flags.csv", "diagnostics.csv"):
        assert (out / name).stat().st_size > 500, name
    assert len(list((out / "pilot_figures").glob("*.png"))) >= 11  # forest; ITS, event study, synth x 3; calendar
    # progress bar on stderr, one line per design fit, ending "finished"
    bars = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert len(bars) == 4 * 3 + 1 and bars[-1].rstrip().endswith("finished") and "12/12" in bars[-1]
    # the summary and the file list on stdout
    assert "Results and verdicts" in proc.stdout and f"to {out}/" in proc.stdout
    html = (out / "pilot.html").read_text(encoding="utf-8")
    assert "evalint evaluate " in html and "config.toml" in html  # the re-run instruction
    tri = pd.read_csv(out / "triangulation.csv")
    assert set(zip(tri["design"], tri["outcome"])) == {(d, o) for d in ("its", "did", "scm", "sdid")
                                                       for o in OUTCOMES}
    assert (tri["status"] == "ok").all()
    # the data reached the designs the right way round: on each count outcome at least two of the
    # four designs' 95% intervals cover the simulated truth (a wrong column, unit or date would
    # leave none covering; per-design coverage is tested in test_evaluate.py, not on one draw)
    t = tri.set_index(["design", "outcome"])
    for o in ("emergency_admissions", "delayed_discharges"):
        truth = _true_percent(sim, o)
        assert truth == pytest.approx(100 * EFFECTS[o])
        covering = [d for d in ("its", "did", "scm", "sdid")
                    if t.loc[(d, o), "pct_low"] <= truth <= t.loc[(d, o), "pct_high"]]
        assert len(covering) >= 2, (o, truth, t.xs(o, level="outcome")[["pct_low", "pct_high"]])


def test_progress_line_is_one_write():
    """With jobs > 1 helpers print progress to the same stderr; under PYTHONUNBUFFERED each write
    reaches the pipe at once, so a line written in two pieces (print's text, then its newline) can
    be split by another process's line, as seen in CI: '... 1/12 ... length_of_stay[....] 0/12 ...'.
    Each line must be a single write ending in its newline."""
    from evalint.evaluate.cli import TextProgress

    class Recorder:
        def __init__(self):
            self.writes: list[str] = []

        def write(self, text):
            self.writes.append(text)
            return len(text)

        def flush(self):
            pass

    rec = Recorder()
    bar = TextProgress(stream=rec)
    bar(0, 3, "TWFE on los")
    bar(3, 3, "done")
    assert len(rec.writes) == 2
    assert all(w.startswith("[") and w.endswith("\n") and w.count("\n") == 1 for w in rec.writes)
    assert rec.writes[0].rstrip().endswith("fitting TWFE on los") and rec.writes[1].rstrip().endswith("finished")


def test_evaluate_cli_matches_evaluate_called_directly(good_run, project, sim):
    import warnings

    from evalint.evaluate import evaluate

    assert good_run.returncode == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(sim.panel, PILOT, start="2021-07", seed=3, fast=True)
    direct = ev.table()
    cli = pd.read_csv(project / "out" / "triangulation.csv")
    for col in ("absolute", "abs_low", "abs_high", "percent", "pct_low", "pct_high"):
        assert cli[col].to_numpy() == pytest.approx(direct[col].to_numpy(), rel=1e-9, abs=1e-12), col


def test_evaluate_cli_options_and_simulated_data(tmp_path, capsys):
    cfg = tmp_path / "sim.toml"
    cfg.write_text(textwrap.dedent("""
        [data]
        simulate = {seed = 5, adoption = {QHG = "2021-04", QUE = "2021-04"}, covid = false}

        [evaluation]
        outcomes = ["emergency_admissions"]
        designs = ["did"]
        seed = 1

        [output]
        dir = "ignored"
        formats = "md"
    """), encoding="utf-8")
    assert main(["evaluate", str(cfg), "--out", str(tmp_path / "here"), "--fast", "--seed", "9", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # --quiet: files only
    assert (tmp_path / "here" / "report.md").exists() and not (tmp_path / "ignored").exists()
    assert not (tmp_path / "here" / "report.html").exists()
    md = (tmp_path / "here" / "report.md").read_text(encoding="utf-8")
    assert "--fast --seed 9" in md and "DiD (Callaway-Sant'Anna)" in md
    tri = pd.read_csv(tmp_path / "here" / "triangulation.csv")
    assert list(tri["design"]) == ["did"]


# ----------------------------------------------------------------------------- bad configurations
def _write(root: Path, text: str, name: str = "bad.toml") -> Path:
    p = root / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


BAD = {
    "invalid_toml": ("[data\npath = 'x.csv'", ["not valid TOML"]),
    "unknown_data_key": (GOOD.replace('unit = "icb_code"', 'unit_col = "icb_code"'),
                         ["unknown key 'unit_col' in [data]", "Did you mean 'unit'?", "Allowed:"]),
    "missing_data_table": ("[evaluation]\nintervention = 'ics_golive_2022'\n", ["[data] table is missing"]),
    "missing_outcomes": (GOOD.replace('outcomes = ["emergency_admissions", "length_of_stay", '
                                      '"delayed_discharges"]\npopulation', "population"),
                         ["[data] needs outcomes"]),
    "data_file_missing": (GOOD.replace("icb_monthly.csv", "no_such_file.csv"),
                          ["no_such_file.csv", "does not exist"]),
    "unknown_preset": (GOOD.replace('[evaluation.intervention]\nQHG = "2023-04"\nQUE = "2023-04"\n'
                                    'QM7 = "2023-04"', "").replace('fast = true', 'fast = true\n'
                                                                   'intervention = "ics_golive2022"'),
                       ["ics_golive2022", "Did you mean 'ics_golive_2022'"]),
    "bad_format": (GOOD.replace('formats = ["html", "md"]', 'formats = ["pdf"]'),
                   ["formats ['pdf']", "'html' and/or 'md'"]),
    "calendar_not_bool": (GOOD.replace("fast = true", 'fast = true\ncalendar = "yes"'),
                          ["calendar must be true or false"]),
    "outcome_not_a_column": (GOOD.replace('"delayed_discharges"]', '"delayed_discharge"]'),
                             ["delayed_discharge"]),
    "unknown_design": (GOOD.replace("fast = true", 'fast = true\ndesigns = ["rdd"]'),
                       ['designs = ["rdd"]', '"rdd" is not one of']),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_exits_2_with_a_clear_message(case, project, capsys):
    text, expected = BAD[case]
    cfg = _write(project, text, f"{case}.toml")
    assert main(["evaluate", str(cfg), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalint: error: "), err
    assert "Traceback" not in err
    for piece in expected:
        assert piece in err, (piece, err)


def test_missing_config_file_exits_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "does not exist" in err


def test_bad_config_exit_code_from_the_console_script(project):
    cfg = _write(project, BAD["unknown_preset"][0], "console_bad.toml")
    proc = subprocess.run([sys.executable, "-m", "evalint.cli", "evaluate", str(cfg)], capture_output=True,
                          text=True, timeout=300, cwd=project, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("evalint: error: ") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_evaluate_help_documents_the_config():
    proc = subprocess.run([sys.executable, "-m", "evalint.cli", "evaluate", "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0
    for opt in ("config", "--out", "--fast", "--seed", "--quiet"):
        assert opt in proc.stdout


def test_help_example_is_a_valid_config(project):
    """The example printed by `evalint evaluate --help` parses and builds a panel from the CSV."""
    from evalint.evaluate.cli import EXAMPLE
    from evalint.evaluate.config import build_panel, evaluate_kwargs, load_config

    body = EXAMPLE.split("\n\n", 1)[1].split("\nWrites ")[0]
    toml = "\n".join(line[2:] for line in body.splitlines())
    cfg = load_config(_write(project, toml, "from_help.toml"))
    panel = build_panel(cfg)
    assert list(panel.outcomes) == OUTCOMES and panel.n_units == 42
    assert evaluate_kwargs(cfg)["intervention"] == "ics_golive_2022"
    assert cfg.formats == ("html", "md") and cfg.out_dir == (project / "evalint-report").resolve()
