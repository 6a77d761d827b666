"""The ``evalint`` command line.

Subcommands live in their own modules and register themselves here through
:data:`SUBCOMMANDS`: each entry maps a name to ``(module, help)``; the module provides
``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 success; 1 the command ran but its answer is a failure (``evaluate``: no design
gave an estimate, each failed or was skipped; ``replicate``: a quantity outside tolerance or a
target skipped); 2 bad usage, configuration or data, printed as one line ``evalint: error: ...``
without a traceback (``--debug``, before or after the command, re-raises to show it); 130
interrupted. Usage errors
(an unknown option, a missing argument, a value of the wrong type, no command or no action) are
the same one line, ``evalint: error: <what>; see 'evalint <command> --help'.``, without argparse's
usage block; ``--help`` and ``--version`` print as usual and exit 0. While a command runs, each
warning is one line ``evalint: warning: <message>`` on stderr (the full form with ``--debug``);
the library's own warnings are unchanged. When the reader of the standard output
goes away (``evalint demo | head -1``), the console script drops the rest of its output and still
finishes the command (its files are written), with the command's own exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from evalint._version import __version__
from evalint.errors import EvalintError, EvalintWarning

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("evalint.demo", "run a real evaluation on the built-in simulated NHS panel"),
    "calendar": ("evalint.calendar.cli", "query the policy calendar (list, check)"),
    "replicate": ("evalint.replication.cli", "re-run published estimates: published vs reproduced"),
    "evaluate": ("evalint.evaluate.cli", "run evaluate() from a TOML config and write the report"),
    "power": ("evalint.design.cli", "minimum detectable effects of planned DiD designs from a TOML config"),
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and whose subcommands are alike.

    ``error()`` prints ``evalint: error: <argparse's message>; see '<prog> --help'.`` and exits 2,
    without the usage block; its subparsers (``add_subparsers``) are :class:`_CommandParser`.
    """

    def error(self, message: str) -> NoReturn:
        """Exit 2 with one line naming the problem and the help to read."""
        self.exit(2, _usage_error(message, self.prog) + "\n")

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Subparsers made by :class:`_CommandParser` unless ``parser_class`` says otherwise."""
        kwargs.setdefault("parser_class", _CommandParser)
        return super().add_subparsers(**kwargs)


class _CommandParser(_Parser):
    """The parser of a subcommand (or of its actions): accepts ``--debug`` after the command too,
    and records its ``prog`` so that an unrecognised argument names the command's help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SUPPRESS: not given here, the top-level value (False, or True from `evalint --debug`) stays
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show the full traceback of an error")
        self.set_defaults(_prog=self.prog)


def _usage_error(message: str, prog: str) -> str:
    return f"evalint: error: {_one_line(message).rstrip('.')}; see '{prog} --help'."


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level argument parser with every subcommand.

    Given the command line ``argv``, only the subcommand it names has its arguments added (its
    module imported): ``evalint demo --help`` loads neither the other subcommands nor pandas,
    SciPy or matplotlib. Without ``argv`` every subcommand is complete.
    """
    parser = _Parser(
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


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """``parser.parse_args(argv)``, whose unrecognised arguments name the help of the command they
    follow (``evalint evaluate c.toml --frobnicate``: see 'evalint evaluate --help')."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.exit(2, _usage_error("unrecognized arguments: " + " ".join(extra),
                                    getattr(args, "_prog", parser.prog)) + "\n")
    return args


def _missing_choice(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The usage error of a command, or of a command with actions (``evalint calendar``), given
    without one; None when every level has its choice."""
    level: argparse.ArgumentParser | None = parser
    while level is not None:
        subs = [a for a in level._actions if isinstance(a, argparse._SubParsersAction)]
        prog, level = level.prog, None
        for action in subs:
            chosen = getattr(args, action.dest, None) if action.dest != argparse.SUPPRESS else None
            if chosen is None:
                what = "no command given" if prog == parser.prog else f"no action given to '{prog}'"
                return _usage_error(f"{what}; choose one of: " + ", ".join(action.choices), prog)
            level = action.choices[chosen]
    return None


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """``warnings.showwarning`` of the console script: one line ``evalint: warning: <message>``
    (a warning from outside evalint also names its class), without the source line."""
    stream = file if file is not None else sys.stderr
    if stream is None:
        return
    kind = "" if issubclass(category, EvalintWarning) else f"{category.__name__}: "
    try:
        stream.write(f"evalint: warning: {kind}{_one_line(str(message))}\n")
    except (OSError, ValueError):  # the stream is gone, as the default showwarning does
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evalint`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = _parse(parser, argv)
    missing = _missing_choice(parser, args)
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        # installed before the command starts, so the helper processes it forks print alike
        if not args.debug:
            warnings.showwarning = _show_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; its errors become one line and an exit code."""
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
