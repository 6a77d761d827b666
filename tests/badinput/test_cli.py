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
        raise InferenceError("the fit failed for a reason the report shows")

    its = registry.get_design("its")
    broken = dataclasses.replace(its, variants=tuple(dataclasses.replace(v, run=failing) for v in its.variants))
    monkeypatch.setitem(registry._DESIGNS, "its", broken)
    cfg = _write(tmp_path / "c.toml", SIM)
    assert main(["evaluate", str(cfg), "--quiet", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "every design failed" in err and "the fit failed" in err
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
