"""The command line on bad input: exit 2 with one line ``evalint: error: ...`` and no traceback.

Subprocess tests run the console script as a user does (real exit code, stderr); the rest
call :func:`evalint.cli.main` in-process. Output folders: a non-empty folder is refused
unless ``--overwrite``, which replaces it whole; a failed run leaves the earlier output whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evalint.cli import main

SIM = """
[data]
simulate = {seed = 1, adoption = {QHG = "2023-04", QUE = "2023-04"}}
[evaluation]
fast = true
start = "2021-07"
outcomes = ["emergency_admissions"]
designs = ["its"]
"""


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalint", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, check=False, env={**os.environ, "MPLBACKEND": "Agg"})


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("evalint: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_no_command_exits_nonzero():
    proc = _cli()
    assert proc.returncode == 2
    assert "no command given" in _one_error_line(proc)


def test_wrong_toml_type_subprocess(tmp_path):
    cfg = _write(tmp_path / "c.toml", SIM.replace("fast = true", 'fast = "false"'))
    proc = _cli("evaluate", str(cfg), "--quiet")
    assert proc.returncode == 2
    line = _one_error_line(proc)
    assert "[evaluation] fast must be true or false" in line and '"false"' in line


def test_non_utf8_config(tmp_path, capsys):
    cfg = _write(tmp_path / "c.toml", b'[data]\npath = "caf\xe9.csv"\n')
    assert main(["evaluate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalint: error:") and "not UTF-8" in err and "line 2" in err


def test_debug_shows_the_traceback(tmp_path):
    cfg = _write(tmp_path / "c.toml", SIM.replace("fast = true", 'fast = "false"'))
    proc = _cli("--debug", "evaluate", str(cfg))
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "ConfigError" in proc.stderr


def test_empty_csv(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("")
    cfg = _write(tmp_path / "c.toml", '[data]\npath = "d.csv"\nunit = "u"\ntime = "t"\noutcomes = ["y"]\n')
    assert main(["evaluate", str(cfg)]) == 2
    assert "is empty (0 bytes)" in capsys.readouterr().err


def test_output_folder_rules(tmp_path, capsys):
    """First run exits 0; the second refuses the non-empty folder; --overwrite replaces it whole."""
    cfg = _write(tmp_path / "c.toml", SIM)
    out = tmp_path / "out"
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(out)]) == 0
    assert (out / "report.html").is_file() and (out / "triangulation.csv").is_file()
    (out / "report_figures" / "stale_from_earlier_run.png").write_bytes(b"x")
    before = (out / "report.html").read_bytes()
    capsys.readouterr()
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalint: error:") and "is not empty" in err and "--overwrite" in err
    assert (out / "report.html").read_bytes() == before  # untouched
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(out), "--overwrite"]) == 0
    assert not (out / "report_figures" / "stale_from_earlier_run.png").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_every_design_failed_exits_1(tmp_path, monkeypatch, capsys):
    """A run where the only design fails exits 1 and says so (the report still records why)."""
    import dataclasses

    from evalint.errors import InferenceError
    from evalint.evaluate import registry

    def failing(ctx, outcome, plan):
        raise InferenceError("the fit failed for a reason\n  the report shows")

    its = registry.get_design("its")
    broken = dataclasses.replace(its, variants=tuple(dataclasses.replace(v, run=failing) for v in its.variants))
    monkeypatch.setitem(registry._DESIGNS, "its", broken)
    cfg = _write(tmp_path / "c.toml", SIM)
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "every design failed" in err and "the fit failed for a reason the report shows" in err
    assert err.count("\n") == 1, err  # one line, the reason's line break too
    assert (tmp_path / "o" / "report.html").is_file()


# ---- in-process: the configuration checks (each asserts the class and the words) ----

@pytest.mark.parametrize(
    ("snippet", "replace", "words"),
    [
        ("fast = true", 'fast = "yes"', ["fast must be true or false", '"yes"']),
        ("fast = true", "fast = 1", ["fast must be true or false", "got 1"]),
        ("fast = true", 'seed = "3"', ["seed must be an integer", "without quotes"]),
        ("fast = true", "seed = 1.5", ["seed must be an integer"]),
        ("fast = true", "seed = -1", ["non-negative"]),
        ("fast = true", "alpha = 5", ["alpha must be a number between 0 and 0.5"]),
        ("fast = true", 'alpha = "0.05"', ["alpha must be a number"]),
        ("fast = true", "calendar = 0", ["calendar must be true or false"]),
        ('designs = ["its"]', 'designs = ["its", "rdd"]', ['"rdd" is not one of']),
        ('designs = ["its"]', "designs = 3", ["designs must be a string or list of strings"]),
        ('outcomes = ["emergency_admissions"]', "outcomes = [1, 2]", ["every item must be a quoted string"]),
        ('start = "2021-07"', "start = 2021", ["start must be a string or date"]),
        ("fast = true", "fasst = true", ["unknown key 'fasst' in [evaluation]", "Did you mean 'fast'?"]),
        ("[evaluation]", "[evaluaton]", ["unknown section 'evaluaton'", "Did you mean 'evaluation'?"]),
        ("[evaluation]", "[output]\nfromats = ['md']\n[evaluation]", ["unknown key 'fromats'", "'formats'"]),
        ("[evaluation]", "[output]\noverwrite = 'yes'\n[evaluation]", ["overwrite must be true or false"]),
        ("[evaluation]", "[output]\nname = '../x'\n[evaluation]", ["plain file name"]),
        ("[evaluation]", "[output]\nformats = ['pdf']\n[evaluation]", ["use a list of 'html' and/or 'md'"]),
        ("[data]", "data = 3\n[x]", ["unknown section 'x'"]),
    ],
)
def test_config_type_errors(tmp_path, capsys, snippet, replace, words):
    from evalint.errors import ConfigError
    from evalint.evaluate.config import load_config

    cfg = _write(tmp_path / "c.toml", SIM.replace(snippet, replace, 1))
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    for w in words:
        assert w.lower() in str(err.value).lower(), str(err.value)
    assert main(["evaluate", str(cfg)]) == 2
    assert capsys.readouterr().err.startswith("evalint: error:")


def test_data_key_types(tmp_path):
    from evalint.errors import ConfigError
    from evalint.evaluate.config import load_config

    cfg = _write(tmp_path / "c.toml", '[data]\npath = "d.csv"\nunit = 3\ntime = "t"\noutcomes = ["y"]\n')
    with pytest.raises(ConfigError, match=r"\[data\] unit must be a string; got 3"):
        load_config(cfg)
    cfg = _write(tmp_path / "c.toml", '[data]\npath = "d.csv"\ntime = "t"\noutcomes = ["y"]\nmissing = "fill"\n')
    with pytest.raises(ConfigError, match=r'"fill" is not one of .error., .drop.'):
        load_config(cfg)
    cfg = _write(tmp_path / "c.toml", '[data]\npath = "d.csv"\ntime = "t"\noutcome = ["y"]\noutcmes = ["z"]\n')
    with pytest.raises(ConfigError, match=r"Did you mean 'outcomes'\?"):
        load_config(cfg)


def test_config_path_is_a_folder(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "cls", "words"),
    [
        ("unit,t,y\n", "EmptyDataError", ["header", "no data rows"]),
        ("\n\n", "EmptyDataError", ["no data"]),
    ],
)
def test_csv_without_rows(tmp_path, content, cls, words):
    import evalint.errors as E
    from evalint.evaluate.config import read_table

    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(getattr(E, cls)) as err:
        read_table(tmp_path / "d.csv")
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_delimiter_is_sniffed(tmp_path, sep):
    from evalint.evaluate.config import read_table

    (tmp_path / "d.csv").write_text(sep.join(["unit", "month", "y"]) + "\n" + sep.join(["A", "2020-01", "1,5"]) + "\n")
    frame = read_table(tmp_path / "d.csv")
    assert list(frame.columns) == ["unit", "month", "y"]


def test_data_path_is_a_folder_or_missing(tmp_path):
    from evalint.errors import DataError
    from evalint.evaluate.config import read_table

    with pytest.raises(DataError, match="is a folder, not a file"):
        read_table(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(DataError, match="use a .csv or .parquet file"):
        read_table(tmp_path / "d.xlsx")


def test_output_path_that_is_a_file(tmp_path, capsys):
    cfg = _write(tmp_path / "c.toml", SIM)
    (tmp_path / "f").write_text("x")
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "f")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "f" / "sub")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_output_path_not_writable(tmp_path, capsys):
    from evalint._output import check_output_folder
    from evalint.errors import OutputError

    if os.geteuid() == 0:  # root writes anywhere chmod allows; /proc refuses even root
        target = Path("/proc/evalint-no-such-dir/out")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = ro / "out"
    with pytest.raises(OutputError, match="(not writable|cannot write)"):
        check_output_folder(target)


def test_overwrite_refuses_a_folder_evalint_did_not_write(tmp_path):
    from evalint._output import output_folder
    from evalint.errors import OutputError

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="holds files evalint did not write"):
        with output_folder(tmp_path / "mine", overwrite=True):
            pass
    assert (tmp_path / "mine" / "thesis.docx").read_text() == "precious"


def test_failed_write_leaves_the_old_folder_whole(tmp_path):
    from evalint._output import output_folder

    out = tmp_path / "out"
    with output_folder(out) as tmp:
        (tmp / "report.html").write_text("old")
    with pytest.raises(RuntimeError):
        with output_folder(out, overwrite=True) as tmp:
            (tmp / "report.html").write_text("new, half written")
            raise RuntimeError("a design crashed half way")
    assert (out / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_demo_refuses_a_file_and_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["demo", "--quiet", "--out", str(tmp_path / "f")]) == 2
    assert "is a file" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "report.html").write_text("earlier")
    assert main(["demo", "--quiet", "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--overwrite" in err
    assert (tmp_path / "d" / "report.html").read_text() == "earlier"


def test_unexpected_exception_is_one_line(monkeypatch, capsys):
    import evalint.demo as demo

    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(demo, "run_demo", boom)
    assert main(["demo", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evalint: error: unexpected ZeroDivisionError") and "--debug" in err


@pytest.fixture(scope="module")
def small_evaluation():
    import numpy as np
    import pandas as pd

    import evalint

    rng = np.random.default_rng(0)
    months = pd.period_range("2019-01", periods=30, freq="M")
    df = pd.DataFrame([{"unit": f"u{i}", "month": m, "y": 50 + i + rng.normal(0, 1)
                        + (3 if i == 0 and m >= months[20] else 0), "cohort": str(months[20]) if i == 0 else "never"}
                       for i in range(6) for m in months])
    p = evalint.Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort")
    return evalint.evaluate(p, designs=["its"], fast=True, calendar=False)


def test_report_path_errors(small_evaluation, tmp_path):
    from evalint.errors import OutputError, SpecificationError

    with pytest.raises(OutputError, match="is a folder; give a file name"):
        small_evaluation.report(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        small_evaluation.report(tmp_path / "f" / "r.html")
    with pytest.raises(SpecificationError, match="must end in .html or .md"):
        small_evaluation.report(tmp_path / "r.pdf")


def test_report_replaces_its_figures_whole_and_leaves_no_temporaries(small_evaluation, tmp_path):
    small_evaluation.report(tmp_path / "r.md")
    stale = tmp_path / "r_figures" / "stale.png"
    stale.write_bytes(b"old")
    small_evaluation.report(tmp_path / "r.md")
    assert not stale.exists() and (tmp_path / "r.md").is_file()
    assert any((tmp_path / "r_figures").iterdir())
    small_evaluation.report(tmp_path / "r.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.md", "r_figures"]


def test_failed_report_leaves_the_old_report(small_evaluation, tmp_path, monkeypatch):
    from evalint.evaluate import renderers

    small_evaluation.report(tmp_path / "r.html")
    before = (tmp_path / "r.html").read_bytes()

    def broken(ev, path):
        path.write_text("half")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(renderers, "_WRITERS", [((".html", ".htm"), broken)])
    with pytest.raises(RuntimeError):
        small_evaluation.report(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_evaluation_summary_has_no_raw_dicts(small_evaluation):
    text = small_evaluation.summary()
    assert "replications: " in text and "{" not in text and "np." not in text


def test_output_folder_holding_the_inputs_is_refused(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame({"u": ["A"] * 3, "m": ["2020-01", "2020-02", "2020-03"], "y": [1.0, 2, 3]}).to_csv(
        tmp_path / "d.csv", index=False)
    cfg = _write(tmp_path / "c.toml", '[data]\npath = "d.csv"\nunit = "u"\ntime = "m"\noutcomes = ["y"]\n')
    assert main(["evaluate", str(cfg), "--out", str(tmp_path), "--overwrite"]) == 2
    assert "contains the input" in capsys.readouterr().err
    assert (tmp_path / "d.csv").is_file()


def test_overwrite_never_replaces_a_folder_of_user_csvs(tmp_path):
    from evalint._output import output_folder
    from evalint.errors import OutputError

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "icb_monthly.csv").write_text("a,b\n1,2\n")
    with pytest.raises(OutputError, match="holds files evalint did not write"):
        with output_folder(tmp_path / "data", overwrite=True):
            pass


@pytest.mark.parametrize("files", [
    {"thesis.md": "chapter 1", "index.html": "<p>site</p>", "thesis_figures/interview_transcripts.xlsx": "data"},
    {"thesis.md": "chapter 1", "index.html": "<p>site</p>"},
    {"notes.md": "mine", "flags.csv": "a\n1\n"},
], ids=["reports-and-a-figures-folder", "reports-only", "a-report-and-one-evalint-csv"])
def test_overwrite_never_replaces_a_folder_of_user_reports(tmp_path, files):
    """A user's own Markdown/HTML reports, or a '*_figures' folder holding anything but figures,
    are not evalint's: `evalint evaluate --out docs --overwrite` deleted thesis.md, index.html and
    thesis_figures/interview_transcripts.xlsx and exited 0. Refused; every file is still there."""
    from evalint._output import output_folder
    from evalint.errors import OutputError

    docs = tmp_path / "docs"
    for name, text in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    with pytest.raises(OutputError, match="holds files evalint did not write"):
        with output_folder(docs, overwrite=True):
            pass
    assert all((docs / name).read_text() == text for name, text in files.items())


def test_overwrite_replaces_an_evaluation_folder_without_the_marker(tmp_path):
    """An evaluation folder from before the marker file (its three tables, a report, figures)
    is still replaced by --overwrite."""
    from evalint._output import output_folder

    old = tmp_path / "old"
    (old / "report_figures").mkdir(parents=True)
    for name in ("triangulation.csv", "flags.csv", "diagnostics.csv", "report.md", "report_figures/forest.png"):
        (old / name).write_text("x")
    with output_folder(old, overwrite=True) as tmp:
        (tmp / "report.html").write_text("new")
    assert sorted(p.name for p in old.iterdir()) == [".evalint-output", "report.html"]


def test_csv_with_excel_bom_and_non_utf8(tmp_path):
    from evalint.errors import DataError
    from evalint.evaluate.config import read_table

    (tmp_path / "bom.csv").write_bytes("\ufeffunit,month,y\nA,2020-01,1\n".encode("utf-8"))
    assert list(read_table(tmp_path / "bom.csv").columns) == ["unit", "month", "y"]
    (tmp_path / "latin.csv").write_bytes("unit,month,y\nSt Helen\xe9s,2020-01,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="Save it as comma-separated UTF-8 text"):
        read_table(tmp_path / "latin.csv")


def test_overwrite_from_the_parent_folder_and_refused_for_the_current_one(tmp_path, monkeypatch):
    from evalint._output import output_folder
    from evalint.errors import OutputError

    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a relative out inside the current directory is replaced in place
        with output_folder("out", overwrite=True) as tmp:
            (tmp / "report.html").write_text("x")
    assert (tmp_path / "out" / "report.html").read_text() == "x"
    monkeypatch.chdir(tmp_path / "out")
    with pytest.raises(OutputError, match="contains the current directory"):
        with output_folder(tmp_path / "out", overwrite=True):
            pass


def test_empty_current_folder_as_output(tmp_path, monkeypatch):
    from evalint._output import output_folder

    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with output_folder(".") as tmp:
        (tmp / "report.html").write_text("x")
    assert (tmp_path / "here" / "report.html").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_simulate_table_unknown_key(tmp_path, capsys):
    cfg = _write(tmp_path / "c.toml", SIM.replace("seed = 1,", "sed = 1,"))
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'sed' in [data.simulate]" in err and "Did you mean 'seed'?" in err


def test_console_exits_with_mains_code_after_freezing(monkeypatch):
    """The console script (``evalint`` / ``python -m evalint``) exits with main()'s code, having
    flushed its output and frozen the objects left (so the interpreter's last collection at exit
    does not walk them); main() itself, called in-process, never freezes."""
    import gc

    import evalint.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 3)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as stop:
        cli.console()
    assert stop.value.code == 3
    assert calls == ["main", "freeze"]


def test_python_m_evalint_runs_through_the_console_entry():
    """``python -m evalint`` and the installed script share one entry: an error still exits 2
    with one line, a success exits 0 with its output."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "evalint"]
    assert script.value == "evalint.cli:console"
    ok = _cli("--version")
    assert ok.returncode == 0 and ok.stdout.strip()
    assert _cli("demo", "--seed", "-1").returncode == 2


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
def test_output_reader_going_away_does_not_stop_the_command(tmp_path, unbuffered):
    """``evalint demo | head -1``: the reader takes the first line and goes away. The demo still
    writes its whole output folder and exits 0, with no error line and no 'Exception ignored'
    (before: exit 2 'Broken pipe' with nothing written, or exit 120 when buffered)."""
    out = tmp_path / "demo"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": unbuffered}
    proc = subprocess.Popen([sys.executable, "-m", "evalint", "demo", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()                      # what `head -1` does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert first.startswith(b"evalint demo:")
    assert "error" not in err and "Exception ignored" not in err and "Traceback" not in err
    assert (out / "report.html").stat().st_size > 1000 and len(list(out.rglob("*.png"))) >= 11


# The command line's own contract: usage errors, --debug, warnings, skipped designs ---------------

def _only_line(proc: subprocess.CompletedProcess) -> str:
    """The one line on stderr (no usage block, no traceback), which is an error line."""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return _one_error_line(proc)


@pytest.mark.parametrize(
    ("args", "words", "help_of"),
    [
        (["evaluate", "c.toml", "--seed", "abc"], ["argument --seed: invalid int value: 'abc'"], "evaluate"),
        (["evaluate"], ["the following arguments are required: config"], "evaluate"),
        (["evaluate", "c.toml", "--frobnicate"], ["unrecognized arguments: --frobnicate"], "evaluate"),
        (["evaluate", "a.toml", "b.toml"], ["unrecognized arguments: b.toml"], "evaluate"),
        (["calendar", "check", "--intervention", "ics_golive_2022"], ["required: --outcome"], "calendar check"),
        (["nope"], ["invalid choice: 'nope'", "'evaluate'"], None),
        (["calendar"], ["no action given to 'evalint calendar'", "list, check, presets"], "calendar"),
        ([], ["no command given", "demo, calendar, replicate, evaluate, power"], None),
    ],
    ids=["bad-int", "missing-config", "unknown-option", "two-configs", "missing-required",
         "unknown-command", "calendar-no-action", "no-command"],
)
def test_usage_errors_are_one_line(tmp_path, args, words, help_of):
    """Every usage error, of every subcommand and its actions, is one line naming the command's
    help and exits 2: no usage block, no 'evalint evaluate: error:' (calendar without an action
    exited 0 with its help)."""
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = _only_line(proc)
    for w in words:
        assert w in line, line
    see = "evalint" if help_of is None else f"evalint {help_of}"
    assert line.endswith(f"; see '{see} --help'."), line
    assert proc.stdout == ""


def test_help_and_version_still_print_and_exit_0():
    for args in (["--version"], ["calendar", "check", "--help"]):
        proc = _cli(*args)
        assert proc.returncode == 0 and proc.stdout.strip() and proc.stderr == "", (args, proc.stderr)
    assert "usage: evalint calendar check" in proc.stdout and "--debug" in proc.stdout


@pytest.mark.parametrize("where", ["after", "before"])
def test_debug_after_the_command_shows_the_traceback(tmp_path, where):
    """The unexpected-error line says 'rerun with --debug': that works wherever --debug is put."""
    cfg = _write(tmp_path / "c.toml", SIM.replace("fast = true", 'fast = "false"'))
    args = ["evaluate", str(cfg), "--debug"] if where == "after" else ["--debug", "evaluate", str(cfg)]
    proc = _cli(*args)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "ConfigError" in proc.stderr, proc.stderr


def test_debug_after_an_action():
    proc = _cli("calendar", "list", "--debug", "--from", "x")
    assert "Traceback" in proc.stderr and "TimeParseError" in proc.stderr


def _small_csv(path: Path, units: tuple[str, ...] = ("A", "B"), months: int = 24, hole: bool = False) -> Path:
    rows = ["unit,month,y"]
    for i, u in enumerate(units):
        for m in range(months):
            year, month = 2020 + m // 12, m % 12 + 1
            value = "" if hole and i == 0 and m == 3 else str(100 + 7 * i + (m * 13) % 11)
            rows.append(f"{u},{year}-{month:02d},{value}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_warnings_are_one_line_each(tmp_path):
    """A warning the command meets (here the one dropped row) is one line 'evalint: warning: ...'
    before the error line, without the Python source line that warned."""
    _small_csv(tmp_path / "d.csv", hole=True)
    cfg = _write(tmp_path / "c.toml", """
        [data]
        path = "d.csv"
        unit = "unit"
        time = "month"
        outcomes = ["y"]
        missing = "drop"
        [evaluation]
        intervention = "2031-01-01"
        treated = ["A"]
        designs = ["its"]
        """)
    proc = _cli("evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == ("evalint: warning: Dropped 1 row(s) with missing values (y: 1); those unit-periods "
                        "are now missing cells of an unbalanced panel."), proc.stderr
    assert all(ln.startswith(("evalint: warning: ", "evalint: error: ")) for ln in lines), proc.stderr
    assert "DroppedRowsWarning" not in proc.stderr and "from_frame(" not in proc.stderr
    _one_error_line(proc)


def test_warnings_of_forked_helpers_are_one_line_too(tmp_path, monkeypatch, capfd):
    """Helper processes forked while a command runs print their warnings in the same one-line form;
    outside the command the library's warnings are untouched."""
    import warnings

    import evalint._forked as forked
    import evalint.cli as cli

    if not forked.available():
        pytest.skip("no fork on this platform")
    (tmp_path / "warn_cmd.py").write_text(textwrap.dedent("""
        import os, time, warnings
        from evalint._forked import forked_map
        from evalint.errors import DroppedRowsWarning

        def add_arguments(parser):
            pass

        def task(i):
            def run():
                time.sleep(0.3)
                warnings.warn(f"task {i} in process {os.getpid()}\\n  dropped", DroppedRowsWarning, stacklevel=1)
                return os.getpid()
            return run

        def run(args):
            pids = forked_map([task(i) for i in range(4)], jobs=2)
            print("pids", *sorted(set(pids)))
            return 0
        """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.SUBCOMMANDS, "warncmd", ("warn_cmd", "test command"))
    showwarning = warnings.showwarning
    assert main(["warncmd"]) == 0
    assert warnings.showwarning is showwarning  # restored: the library's warnings are unchanged
    captured = capfd.readouterr()
    pids = captured.out.split()[1:]
    assert len(pids) == 2 and str(os.getpid()) in pids, captured.out  # one task at least ran in a helper
    shown = sorted(captured.err.splitlines())
    assert shown == sorted(f"evalint: warning: task {i} in process {p} dropped"
                           for i, p in enumerate(_task_pids(captured.err))), captured.err
    assert {p for p in _task_pids(captured.err)} == set(pids)


def _task_pids(err: str) -> list[str]:
    """The process of each task 0, 1, 2, 3 as its warning line says."""
    found = {}
    for ln in err.splitlines():
        words = ln.split()
        if "task" in words:
            found[int(words[words.index("task") + 1])] = words[words.index("process") + 1]
    return [found.get(i, "?") for i in range(4)]


def test_every_design_skipped_exits_1_and_says_why(tmp_path, capsys):
    """DiD on one unit is skipped, not failed: exit 1 lists it and the reason (before: 'no
    estimate ().'); designs not requested are not listed."""
    _small_csv(tmp_path / "d.csv", units=("A",))
    cfg = _write(tmp_path / "c.toml", """
        [data]
        path = "d.csv"
        unit = "unit"
        time = "month"
        outcomes = ["y"]
        [evaluation]
        intervention = "2021-01-01"
        treated = ["A"]
        designs = ["did"]
        fast = true
        [output]
        formats = ["md"]
        """)
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("evalint: no design could run, no estimate (did skipped: "), err
    assert "no comparison units" in err and "its skipped" not in err and "synth skipped" not in err


# evalint power: the configuration is checked, outputs are not written over -------------------------

POWER = '[power]\nn_treated = [3]\npre = 12\npost = [6]\nreps = 20\n'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (POWER.replace("[3]", "[3.5]"), ["[power] n_treated must be a whole number >= 1", "got [3.5]"]),
        (POWER.replace("pre = 12", "pre = true"), ["[power] pre must be a whole number >= 1", "got true"]),
        (POWER.replace("[3]", "[]"), ["[power] n_treated", "a non-empty list"]),
        (POWER.replace("[6]", "[6, 0]"), ["[power] post must be a whole number >= 1", "got [6, 0]"]),
        (POWER + "seed = -1\n", ["[power] seed must be a whole number >= 0", "got -1"]),
        (POWER.replace("reps = 20", "reps = 5"), ["[power] reps must be a whole number >= 20"]),
        (POWER + "alpha = 0.7\n", ["[power] alpha must be a number between 0 and 0.5"]),
        (POWER + 'design = "xyz"\n', ['[power] design = "xyz" is not one of', "'did'"]),
        (POWER + 'start = "foo"\n', ["[power] start='foo' is not a date"]),
        (POWER + "[output]\ntable = 5\n", ["[output] table must be a file name in quotes", "got 5"]),
        ("power = 3\n", ["power must be a table ([power])"]),
        (POWER.replace("[power]", "[powr]"), ["unknown section 'powr'", "Did you mean 'power'?"]),
        (POWER + "icbs = 3\n", ["unknown key 'icbs' in [power]"]),
        (POWER.encode() + b"# caf\xe9\n", ["not UTF-8", "line 6"]),
    ],
    ids=["fraction", "boolean", "empty-list", "zero", "negative-seed", "few-reps", "alpha", "design", "start",
         "table-number", "power-not-a-table", "section-typo", "unknown-key", "not-utf8"],
)
def test_power_config_errors_name_the_key(tmp_path, capsys, text, words):
    """Each bad [power] or [output] value is one error line naming the key and what it must be,
    before anything is computed (before: 3.5 ICBs ran as 3, pre = true as 1 month, [] printed an
    empty table with exit 0, and the others were 'unexpected ...Error')."""
    cfg = _write(tmp_path / "p.toml", text)
    assert main(["power", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("evalint: error:") and "unexpected" not in err, err
    for w in words:
        assert w in err, err
    assert list(tmp_path.iterdir()) == [cfg]


def test_power_config_is_read_as_evaluates(tmp_path):
    """Both commands read their TOML through one reader: a byte-order mark (some Windows editors
    write one) is accepted by evalint power as by evalint evaluate (the power reader had its own
    copy, which refused it as 'Invalid statement')."""
    from evalint.design.cli import load_power_config

    cfg = tmp_path / "p.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + textwrap.dedent(POWER).encode())
    kwargs, _ = load_power_config(cfg)
    assert kwargs["n_treated"] == [3]


def test_power_config_folder_is_not_called_missing(tmp_path, capsys):
    assert main(["power", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "does not exist" not in err


def test_power_never_writes_over_its_config_or_an_existing_file(tmp_path):
    """[output] table = the config file itself is refused, with --overwrite too; an existing file
    is refused unless --overwrite (before: both overwritten silently with the CSV)."""
    cfg = _write(tmp_path / "p.toml", POWER + '[output]\ntable = "p.toml"\n')
    before = cfg.read_bytes()
    for extra in ([], ["--overwrite"]):
        proc = _cli("power", str(cfg), *extra)
        assert proc.returncode == 2
        assert "[output] table = \"p.toml\" is this configuration file" in _only_line(proc)
        assert cfg.read_bytes() == before
    cfg = _write(tmp_path / "q.toml", POWER + '[output]\ntable = "mde.csv"\n')
    (tmp_path / "mde.csv").write_text("keep me\n")
    proc = _cli("power", str(cfg))
    assert proc.returncode == 2 and proc.stdout == ""
    line = _only_line(proc)
    assert "mde.csv' already exists" in line and "--overwrite" in line
    assert (tmp_path / "mde.csv").read_text() == "keep me\n"
    assert main(["power", str(cfg), "--overwrite"]) == 0
    assert (tmp_path / "mde.csv").read_text().startswith("design,n_treated,pre,post,mde")
