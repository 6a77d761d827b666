"""The ``evalint`` command line.

Subcommands live in their own modules and register themselves here through
:data:`SUBCOMMANDS`: each entry maps a name to ``(module, help)``; the module provides
``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 success; 1 the command ran but its answer is a failure (``evaluate``: every
design failed; ``replicate``: a quantity outside tolerance or a target skipped); 2 bad usage,
configuration or data, printed as one line ``evalint: error: ...`` without a traceback
(``--debug`` re-raises to show it); 130 interrupted. When the reader of the standard output
goes away (``evalint demo | head -1``), the console script drops the rest of its output and still
finishes the command (its files are written), with the command's own exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from evalint._version import __version__
from evalint.errors import EvalintError

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("evalint.demo", "run a real evaluation on the built-in simulated NHS panel"),
    "calendar": ("evalint.calendar.cli", "query the policy calendar (list, check)"),
    "replicate": ("evalint.replication.cli", "re-run published estimates: published vs reproduced"),
    "evaluate": ("evalint.evaluate.cli", "run evaluate() from a TOML config and write the report"),
    "power": ("evalint.design.cli", "minimum detectable effects of planned DiD designs from a TOML config"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level argument parser with every subcommand.

    Given the command line ``argv``, only the subcommand it names has its arguments added (its
    module imported): ``evalint demo --help`` loads neither the other subcommands nor pandas,
    SciPy or matplotlib. Without ``argv`` every subcommand is complete.
    """
    parser = argparse.ArgumentParser(
        prog="evalint",
        description="Evaluate health and social care integration with quasi-experimental designs.",
    )
    parser.add_argument("--version", action="version", version=f"evalint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = set(SUBCOMMANDS) if argv is None else {_requested(argv)}
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in wanted:
            importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _requested(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first argument that is not an option (the top-level
    options take no value)."""
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evalint`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        print("\nevalint: error: no command given; choose one of: " + ", ".join(SUBCOMMANDS) + ".",
              file=sys.stderr)
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("evalint: interrupted", file=sys.stderr)
        return 130
    except EvalintError as exc:
        if args.debug:
            raise
        print(f"evalint: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"evalint: error: cannot read or write{where}: {exc.strerror or _one_line(exc)}.", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the console script never shows a raw traceback
        if args.debug:
            raise
        print(f"evalint: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
              "(this is a bug in evalint or an input it does not check yet; rerun with --debug "
              "for the traceback and report it).", file=sys.stderr)
        return 2


class _DropAfterBrokenPipe:
    """The standard output of the console script: once its reader has gone (``| head -1``), what is
    still written is dropped (the file descriptor is pointed at ``os.devnull``, so the
    interpreter's own flush at exit finds no broken pipe either) and the command carries on."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        self.reader_gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def console() -> None:
    """The ``evalint`` console script and ``python -m evalint``: :func:`main`, then exit with its code.

    Before exiting, the objects still alive (the imported modules, the evaluation just run) are
    moved out of the garbage collector's reach (:func:`gc.freeze`), so the interpreter's last
    collection at exit does not walk them: ~0.2-0.3 s less after ``evalint demo`` (measured from
    the end of the command to the end of the process). They are still freed, and every ``atexit``
    handler still runs; every file the command wrote is closed by then, and the output is flushed
    first. :func:`main` itself does not freeze (it is also called in-process, e.g. by tests).

    Standard output goes through :class:`_DropAfterBrokenPipe` meanwhile: when its reader goes
    away, the rest of the output is dropped and the command still runs to the end.
    """
    import gc

    out = sys.stdout
    sys.stdout = _DropAfterBrokenPipe(out) if out is not None else out  # type: ignore[assignment]
    try:
        code = main()
        streams: tuple[Any, ...] = (sys.stdout, sys.stderr)
        for stream in streams:
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
    finally:
        sys.stdout = out
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
