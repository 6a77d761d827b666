"""The replication harness on its closed-form self-test target, and its failure path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalint.cli import main
from evalint.errors import ReplicationError
from evalint.replication import list_targets, load_target, run_target


def test_selftest_target_passes():
    res = run_target("_selftest")
    assert res["pass"].all() and set(res["quantity"]) == {"slope", "intercept"}
    assert "_selftest" not in list_targets() and "_selftest" in list_targets(include_internal=True)


def test_unknown_target():
    with pytest.raises(ReplicationError, match="not found"):
        load_target("no_such_target")


def test_cli_json_and_exit_status(tmp_path: Path, monkeypatch, capsys):
    assert main(["replicate", "_selftest", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {o["quantity"] for o in out} == {"slope", "intercept"}
    assert set(out[0]) == {"target", "quantity", "reference", "reproduced", "tolerance", "relative", "pass"}
    # a target whose reference is wrong must fail with exit status 1
    bad = tmp_path / "_wrong"
    bad.mkdir()
    (bad / "target.toml").write_text(
        'id = "_wrong"\ntitle = "wrong on purpose"\nrunner = "evalint.replication.selftest:run"\n'
        '[[quantities]]\nquantity = "slope"\nreference = 3.1\ntolerance = 1e-6\n'
    )
    monkeypatch.setenv("EVALINT_REFERENCE_DATA", str(tmp_path))
    assert main(["replicate", "_wrong"]) == 1
    assert "FAIL" in capsys.readouterr().out
