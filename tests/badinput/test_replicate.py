"""`evalint replicate`: ids are installed target names, runners are evalint's own, and --all
runs every target it can, reporting the others as skipped (exit 1)."""

from __future__ import annotations

import json

import pytest

from evalint.cli import main
from evalint.errors import ReplicationError
from evalint.replication import load_target, run_target


@pytest.mark.parametrize("bad", ["../etc", "/tmp/x", "Mpdta", "mpdta/../x", "a-b", "", "x y", "mpdta:run"])
def test_target_id_must_be_a_plain_name(bad, capsys):
    with pytest.raises(ReplicationError) as err:
        load_target(bad)
    assert "is not a target id" in str(err.value) and "[a-z0-9_]+" in str(err.value)
    assert main(["replicate", bad]) == 2
    assert capsys.readouterr().err.startswith("evalint: error:")


def _target(tmp_path, runner: str):
    d = tmp_path / "x"
    d.mkdir()
    (d / "target.toml").write_text(
        f'id = "x"\ntitle = "t"\nrunner = "{runner}"\n[[quantities]]\nquantity = "slope"\nreference = 3\n'
        'tolerance = 1e-9\n')


@pytest.mark.parametrize("runner", ["builtins:print", "os:system", "evalint.replication.selftest:missing",
                                    "subprocess:run"])
def test_runner_must_be_registered(tmp_path, monkeypatch, runner, capsys):
    _target(tmp_path, runner)
    monkeypatch.setenv("EVALINT_REFERENCE_DATA", str(tmp_path))
    with pytest.raises(ReplicationError) as err:
        run_target("x")
    assert "is not one of evalint's replication runners" in str(err.value)
    assert main(["replicate", "x"]) == 2
    assert capsys.readouterr().out == ""  # nothing was called


def test_registered_runner_by_name(tmp_path, monkeypatch):
    _target(tmp_path, "selftest")
    monkeypatch.setenv("EVALINT_REFERENCE_DATA", str(tmp_path))
    assert bool(run_target("x")["pass"].all())  # y = 2 + 3x: slope 3 exactly


def test_all_reports_missing_datasets_as_skipped(monkeypatch, capsys):
    """Outside a checkout every dataset is missing: each target is skipped with the reason, exit 1."""
    import evalint.replication.runners as runners
    from evalint.datasets.registry import DatasetNotFoundError

    def missing(target):
        raise DatasetNotFoundError(f"dataset {target['dataset']!r} is not available here (no EVALINT_DATA_DIR)")

    for name in ("mpdta", "prop99_adh", "prop99_synthdid", "sicily_its"):
        monkeypatch.setitem(runners.RUNNERS, f"_t_{name}", ("builtins", "len"))  # keep the dict shape
    monkeypatch.setattr(runners, "resolve_runner", lambda spec, tid: missing)
    assert main(["replicate", "--all"]) == 1
    out = capsys.readouterr().out
    for name in ("mpdta", "prop99_adh", "prop99_synthdid", "sicily_its"):
        assert f"{name}: SKIPPED - dataset {name!r} is not available here" in out
    assert "4 target(s) skipped (dataset not available)" in out
    assert main(["replicate", "--all", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} == {"skipped"} and len(rows) == 4


def test_a_crashing_target_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    import evalint.replication.runners as runners

    for tid, spec in (("a_ok", "selftest"), ("b_crash", "crash")):
        d = tmp_path / tid
        d.mkdir()
        (d / "target.toml").write_text(
            f'id = "{tid}"\ntitle = "t"\nrunner = "{spec}"\n[[quantities]]\nquantity = "slope"\n'
            'reference = 3\ntolerance = 1e-9\n')
    monkeypatch.setitem(runners.RUNNERS, "crash", ("math", "sqrt"))  # sqrt(dict) raises TypeError
    monkeypatch.setenv("EVALINT_REFERENCE_DATA", str(tmp_path))
    assert main(["replicate", "--all"]) == 1
    out = capsys.readouterr().out
    assert "a_ok: 1/1 quantities within tolerance" in out
    assert "b_crash: FAILED - TypeError" in out and "1 target(s) failed" in out


def test_runner_raising_replication_error_is_a_failed_target(tmp_path, monkeypatch, capsys):
    import evalint.replication.runners as runners

    d = tmp_path / "q"
    d.mkdir()
    (d / "target.toml").write_text('id = "q"\ntitle = "t"\nrunner = "selftest"\n[[quantities]]\n'
                                   'quantity = "slope"\nreference = 3\ntolerance = 1e-9\n')

    def bad(target):
        raise ReplicationError("quantity 'slope' is not understood by the runner")

    real = runners.resolve_runner
    monkeypatch.setattr(runners, "resolve_runner", lambda spec, tid: (real(spec, tid), bad)[1])
    monkeypatch.setenv("EVALINT_REFERENCE_DATA", str(tmp_path))
    assert main(["replicate", "q"]) == 1
    assert "q: FAILED - ReplicationError: quantity 'slope' is not understood" in capsys.readouterr().out
