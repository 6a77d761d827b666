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

Prints the MDE per design; exit 2 with "evalint: error: ..." when the configuration is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evalint.errors import SpecificationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["add_arguments", "run", "load_power_config"]

_POWER_KEYS = {"n_treated", "pre", "post", "outcome", "power", "alpha", "reps", "seed", "start", "design", "ar",
               "ar_sd", "placebo_reps"}
_OUTPUT_KEYS = {"table", "curves"}


def load_power_config(path: str | Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The keyword arguments of :func:`evalint.design.power` and the output paths in a config file."""
    p = Path(path).resolve()
    if not p.is_file():
        raise SpecificationError(f"configuration file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"{p}: not valid TOML ({exc}). See `evalint power --help` for an example.") from None
    unknown = set(raw) - {"power", "output"}
    if unknown or "power" not in raw:
        raise SpecificationError(f"{p}: needs a [power] table (and optionally [output]); unknown: "
                                 f"{', '.join(sorted(unknown)) or 'none'}.")
    kw = dict(raw["power"])
    bad = set(kw) - _POWER_KEYS
    if bad:
        raise SpecificationError(f"{p}: unknown key(s) in [power]: {', '.join(sorted(bad))}; "
                                 f"allowed: {', '.join(sorted(_POWER_KEYS))}.")
    out = dict(raw.get("output", {}))
    bad = set(out) - _OUTPUT_KEYS
    if bad:
        raise SpecificationError(f"{p}: unknown key(s) in [output]: {', '.join(sorted(bad))}.")
    return kw, {k: (p.parent / v).resolve() for k, v in out.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``evalint power``."""
    parser.epilog = __doc__.split("Example CONFIG.toml::", 1)[1]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("config", help="TOML file with a [power] table (see below)")
    parser.add_argument("--reps", type=int, default=None, help="override [power] reps")


def run(args: argparse.Namespace) -> int:
    """Compute and print the MDE table; write the CSVs the [output] table names."""
    from evalint.design.power import power

    kw, out = load_power_config(args.config)
    if args.reps is not None:
        kw["reps"] = args.reps
    res = power(**kw)
    print(res)
    if "table" in out:
        res.to_frame().to_csv(out["table"], index=False)
    if "curves" in out:
        res.curves.to_csv(out["curves"], index=False)
    return 0
