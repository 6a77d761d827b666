"""The ``evalint`` command line.

Subcommands live in their own modules and register themselves here through
:data:`SUBCOMMANDS`: each entry maps a name to ``(module, help)``; the module provides
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from evalint._version import __version__
from evalint.errors import EvalintError

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("evalint.demo", "run a real evaluation on the built-in simulated NHS panel"),
    "calendar": ("evalint.calendar.cli", "query the policy calendar (list, check)"),
    "replicate": ("evalint.replication.cli", "re-run published estimates: published vs reproduced"),
    "evaluate": ("evalint.evaluate.cli", "run evaluate() from a TOML config and write the report"),
    "power": ("evalint.design.cli", "minimum detectable effects of planned DiD designs from a TOML config"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="evalint",
        description="Evaluate health and social care integration with quasi-experimental designs.",
    )
    parser.add_argument("--version", action="version", version=f"evalint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evalint`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except EvalintError as exc:
        print(f"evalint: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
