"""``import evalint`` is cheap and the public API is unchanged (issue 17, item 3).

Checked in fresh interpreters (``sys.modules`` of this process already holds everything): the
package import loads none of matplotlib, statsmodels, linearmodels, SciPy or pandas; every name
of ``__all__`` imports; ``evalint.evaluate`` stays the function after the ``evalint.evaluate``
sub-package is imported; the registrations the eager package made (report renderers, result
plotter, robustness checks, estimator registry) happen on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_import_evalint_loads_no_heavy_dependency() -> None:
    heavy = ["matplotlib", "statsmodels", "linearmodels", "scipy", "pandas", "numba"]
    loaded = json.loads(_run(
        "import sys, json, evalint; "
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"))
    assert loaded == []


def test_every_public_name_imports_and_dir_lists_it() -> None:
    out = json.loads(_run(
        "import json, evalint\n"
        "before = dir(evalint)\n"
        "missing = [n for n in evalint.__all__ if n not in before]\n"
        "bad = []\n"
        "for n in evalint.__all__:\n"
        "    ns = {}\n"
        "    exec(f'from evalint import {n} as x', ns)\n"
        "    if ns['x'] is None: bad.append(n)\n"
        "print(json.dumps({'missing': missing, 'bad': bad, 'before': before, 'after': dir(evalint)}))"))
    assert out["missing"] == [] and out["bad"] == []
    # the listing is the eager package's: every public name and sub-package, before and after the imports
    assert out["before"] == out["after"]
    for sub in ("calendar", "data", "estimators", "inference", "plotting", "report", "results", "sensitivity"):
        assert sub in out["before"]
    assert not {"importlib", "sys", "types", "_LAZY", "_Root"} & set(out["before"])


def test_evaluate_stays_the_function_and_registrations_run_on_first_use() -> None:
    out = json.loads(_run(
        "import json, evalint\n"
        "from evalint.evaluate import robustness\n"
        "from evalint.evaluate.renderers import writer_suffixes\n"
        "from evalint.estimators.base import get_estimator\n"
        "from evalint.results.plots import result_plotter\n"
        "from evalint.evaluate.core import evaluate as core_evaluate\n"
        "print(json.dumps({'fn': evalint.evaluate is core_evaluate, 'suffixes': list(writer_suffixes()),\n"
        "                  'checks': sorted(robustness._PROVIDERS), 'twfe': get_estimator('twfe').__name__,\n"
        "                  'plotter': result_plotter().__module__}))"))
    assert out["fn"] is True
    assert out["suffixes"] == [".html", ".md"]
    assert out["checks"] == sorted(["placebo_in_time", "leave_one_out", "negative_control", "honest_did",
                                    "pretrend_power"])
    assert out["twfe"] == "TWFE"
    assert out["plotter"].startswith("evalint.plotting")


def test_one_estimator_does_not_load_matplotlib_or_the_report() -> None:
    loaded = json.loads(_run(
        "import sys, json\n"
        "from evalint import synthetic_did\n"
        "print(json.dumps([m for m in ('matplotlib', 'statsmodels', 'linearmodels', 'evalint.report',\n"
        "                              'evalint.evaluate') if m in sys.modules]))"))
    assert loaded == []
