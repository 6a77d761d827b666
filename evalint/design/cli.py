"""``evalint power CONFIG.toml``: minimum detectable effects of planned designs (DiD, ITS, SDID, SC).

Example CONFIG.toml::

  [power]
  n_treated = [3, 6, 12]        # ICBs treated (of 42)
  pre = 24                      # months before adoption
  post = [12, 24]               # months after
  outcome = "emergency_admissions"
  power = 0.8
  alpha = 0.05
  reps = 200
  seed = 0
  design = "did"                # or "its", "sdid", "sc"
  # ar = 0.6, ar_sd = 0.03      # ITS/SDID/SC: AR(1) noise per ICB; placebo_reps = 100 (SDID/SC SE)

  [output]
  table = "power.csv"           # optional: the MDE table (relative to the config file)
  curves = "power_curves.csv"   # optional: power against the reduction

Prints the MDE per design; exit 2 with "evalint: error: ..." when the configuration is invalid
(each key is checked: counts are whole numbers >= 1, lists are not empty, paths are strings).
An existing [output] file is replaced only with --overwrite; never the configuration file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import Any

from evalint.data.timeparse import parse_date
from evalint.errors import ConfigError, EvalintError, OutputError, SpecificationError

__all__ = ["add_arguments", "run", "load_power_config", "check_outputs"]

_POWER_KEYS = {"n_treated", "pre", "post", "outcome", "power", "alpha", "reps", "seed", "start", "design", "ar",
               "ar_sd", "placebo_reps"}
_OUTPUT_KEYS = {"table", "curves"}

# each [power] key: (check, what it must be); the checks see the raw TOML value
_MUST = {
    "counts": "a whole number >= 1 or a non-empty list of them (e.g. [3, 6, 12])",
    "reps": "a whole number >= 20",
    "placebo_reps": "a whole number >= 2",
    "seed": "a whole number >= 0",
    "power": "a number between 0 and 1 (e.g. 0.8)",
    "alpha": "a number between 0 and 0.5 (e.g. 0.05)",
    "ar": "a number between -1 and 1 (e.g. 0.6)",
    "ar_sd": "a number >= 0 (e.g. 0.03)",
    "string": "a string in quotes",
    "start": "a month in quotes (e.g. \"2016-04\")",
    "path": "a file name in quotes (e.g. \"power.csv\")",
}


def _int(v: Any, minimum: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_CHECKS: dict[str, tuple[str, Any]] = {
    "n_treated": ("counts", lambda v: _int(v, 1) or (isinstance(v, list) and bool(v) and all(_int(x, 1) for x in v))),
    "pre": ("counts", lambda v: _int(v, 1) or (isinstance(v, list) and bool(v) and all(_int(x, 1) for x in v))),
    "post": ("counts", lambda v: _int(v, 1) or (isinstance(v, list) and bool(v) and all(_int(x, 1) for x in v))),
    "reps": ("reps", lambda v: _int(v, 20)),
    "placebo_reps": ("placebo_reps", lambda v: _int(v, 2)),
    "seed": ("seed", lambda v: _int(v, 0)),
    "power": ("power", lambda v: _num(v) and 0 < v < 1),
    "alpha": ("alpha", lambda v: _num(v) and 0 < v < 0.5),
    "ar": ("ar", lambda v: _num(v) and -1 < v < 1),
    "ar_sd": ("ar_sd", lambda v: _num(v) and v >= 0),
    "outcome": ("string", lambda v: isinstance(v, str)),
    "design": ("string", lambda v: isinstance(v, str)),
    "start": ("start", lambda v: isinstance(v, (str, _dt.date))),
}


def load_power_config(path: str | Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The keyword arguments of :func:`evalint.design.power` and the output paths in a config file.

    Every key is checked (type and range) before anything is computed: ``n_treated = [3.5]``,
    ``pre = true`` or ``n_treated = []`` are errors, not 3 ICBs, 1 month or an empty table.

    Raises
    ------
    ConfigError
        Missing file, a folder, not UTF-8, invalid TOML, unknown sections or keys (with a
        did-you-mean), a key of the wrong type or range (named, with what it must be), an
        ``[output]`` path that is the configuration file itself or names the same file twice.
    """
    from evalint.design.fits import DESIGNS
    from evalint.design.power import OUTCOMES
    from evalint.evaluate.config import _check_keys, _toml_repr, read_toml

    p, raw = read_toml(path, "power")
    _check_keys(raw, {"power", "output"}, "top level", p)
    for section in ("power", "output"):
        if section in raw and not isinstance(raw[section], dict):
            raise ConfigError(f"{p}: {section} must be a table ([{section}]); got {_toml_repr(raw[section])}. "
                              "See `evalint power --help` for an example.")
    if "power" not in raw:
        raise ConfigError(f"{p}: needs a [power] table (and optionally [output]). "
                          "See `evalint power --help` for an example.")
    kw = dict(raw["power"])
    _check_keys(kw, _POWER_KEYS, "power", p)
    for key, value in kw.items():
        must, ok = _CHECKS[key]
        if not ok(value):
            raise ConfigError(f"{p}: [power] {key} must be {_MUST[must]}; got {_toml_repr(value)} "
                              f"({type(value).__name__}).")
    choices = {"design": DESIGNS, "outcome": OUTCOMES}
    for key, allowed in choices.items():
        if key in kw and kw[key] not in allowed:
            raise ConfigError(f"{p}: [power] {key} = {_toml_repr(kw[key])} is not one of "
                              f"{', '.join(repr(c) for c in allowed)}.")
    if "start" in kw:
        try:
            first = parse_date(kw["start"], "[power] start")
        except EvalintError as exc:
            raise ConfigError(f"{p}: {exc}") from None
        kw["start"] = f"{first.year:04d}-{first.month:02d}"
    out = dict(raw.get("output", {}))
    _check_keys(out, _OUTPUT_KEYS, "output", p)
    paths: dict[str, Path] = {}
    for key, value in out.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{p}: [output] {key} must be {_MUST['path']}; got {_toml_repr(value)} "
                              f"({type(value).__name__}).")
        target = (p.parent / value).resolve()
        if target == p:
            raise ConfigError(f"{p}: [output] {key} = {_toml_repr(value)} is this configuration file; "
                              "give the CSV another name, e.g. \"power.csv\".")
        same = [k for k, q in paths.items() if q == target]
        if same:
            raise ConfigError(f"{p}: [output] {same[0]} and {key} both name {_toml_repr(value)}; "
                              "give each its own file.")
        paths[key] = target
    return kw, paths


def check_outputs(out: dict[str, Path], overwrite: bool = False) -> None:
    """Refuse, before anything is computed, output files that cannot or may not be written.

    Raises
    ------
    OutputError
        A path that is a folder, in a folder that does not exist, or an existing file without
        ``overwrite`` (``--overwrite``).
    """
    for key, target in out.items():
        if target.is_dir():
            raise OutputError(f"[output] {key} {str(target)!r} is a folder; give a file name such as "
                              f"{str(target / (key + '.csv'))!r}.")
        if not target.parent.is_dir():
            raise OutputError(f"[output] {key} {str(target)!r}: the folder {str(target.parent)!r} does not "
                              "exist; create it first or choose another path.")
        if target.exists() and not overwrite:
            raise OutputError(f"[output] {key} {str(target)!r} already exists; pass --overwrite to replace it, "
                              "or choose another file name.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``evalint power``."""
    parser.epilog = __doc__.split("Example CONFIG.toml::", 1)[1]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("config", help="TOML file with a [power] table (see below)")
    parser.add_argument("--reps", type=int, default=None, help="override [power] reps (20 or more)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing [output] files (never the configuration file itself)")


def run(args: argparse.Namespace) -> int:
    """Compute and print the MDE table; write the CSVs the [output] table names."""
    from evalint.design.power import power

    kw, out = load_power_config(args.config)
    if args.reps is not None:
        if args.reps < 20:
            raise SpecificationError(f"--reps must be a whole number >= 20 (simulated panels); got {args.reps}.")
        kw["reps"] = args.reps
    check_outputs(out, overwrite=args.overwrite)
    res = power(**kw)
    print(res)
    if "table" in out:
        res.to_frame().to_csv(out["table"], index=False)
    if "curves" in out:
        res.curves.to_csv(out["curves"], index=False)
    return 0
