"""Output folders and report files written whole or not at all.

Every command that writes a folder of results (``evalint evaluate``, ``evalint demo``) and
:meth:`Evaluation.report <evalint.evaluate.core.Evaluation.report>` write into a temporary
sibling first and move it into place only once everything is written, so a run that fails
half way leaves the earlier output whole. A non-empty folder is refused unless the caller
asks to overwrite it, and then it is replaced as a whole (no stale figures from an earlier run
beside the new ones). A folder is only replaced when it looks like evalint output (it holds
the marker file, or an evaluation's three tables and otherwise only reports and figures), so
``--overwrite`` cannot empty an unrelated folder; a report's ``<stem>_figures/`` folder is only
replaced when it holds nothing but figures.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from evalint.errors import OutputError, format_examples

__all__ = ["MARKER", "check_output_folder", "output_folder", "replace_file_set", "check_writable_parent"]

#: written into every output folder so that ``--overwrite`` knows the folder is evalint's
MARKER = ".evalint-output"
_OURS_SUFFIXES = (".html", ".md")
_OURS_CSV = {"triangulation.csv", "flags.csv", "diagnostics.csv", "effects.csv", "truth.csv"}


def check_writable_parent(target: Path, what: str) -> Path:
    """The existing parent folder of ``target``; raise OutputError if it cannot hold it."""
    parent = target.parent
    probe = parent
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"{what} {str(target)!r}: {str(probe)!r} is a file, not a folder. "
                          "Choose a path inside a folder.")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {str(target)!r}: the folder {str(probe)!r} is not writable "
                          "(permission denied). Choose a folder you can write to.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe_file = tempfile.NamedTemporaryFile(dir=parent, prefix=".evalint-probe-", delete=True)
        probe_file.close()
    except OSError as exc:
        raise OutputError(f"{what} {str(target)!r}: cannot write in {str(parent)!r} "
                          f"({exc.strerror or exc}). Choose a folder you can write to.") from None
    return parent


_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
#: the tables every evaluation folder holds; a folder without the marker must hold them all
_EVALUATION_CSV = {"triangulation.csv", "flags.csv", "diagnostics.csv"}


def _looks_like_ours(folder: Path) -> bool:
    """True for a folder evalint wrote: it holds the marker file, or (written before the marker
    existed) it holds the three tables of an evaluation and otherwise only reports and figure
    folders of figures. A folder of a user's own reports (``thesis.md``, ``index.html``,
    ``thesis_figures/`` with anything but figures) is not evalint's, whatever ``--overwrite`` says."""
    if (folder / MARKER).is_file():
        return True
    names = set()
    for entry in folder.iterdir():
        names.add(entry.name)
        if entry.is_dir():
            if not entry.name.endswith("_figures"):
                return False
            if any(not (f.is_file() and f.name.endswith(_FIGURE_SUFFIXES)) for f in entry.iterdir()):
                return False
        elif not (entry.is_file() and (entry.name.endswith(_OURS_SUFFIXES) or entry.name in _OURS_CSV)):
            return False
    return _EVALUATION_CSV <= names


def check_output_folder(out: str | Path, *, overwrite: bool = False, option: str = "--overwrite",
                        protect: tuple[Path, ...] = ()) -> Path:
    """Raise OutputError unless ``out`` can be (re)written; return its absolute path.

    Parameters
    ----------
    out : path
        The output folder.
    overwrite : bool
        Replace a non-empty ``out`` (only if it looks like evalint output).
    option : str
        How the caller spells "overwrite", for the message.
    protect : tuple of paths
        Inputs (configuration, data) that must not lie inside ``out``.

    Raises
    ------
    OutputError
        ``out`` contains a protected input, is a file, is not empty (without ``overwrite``), holds files evalint did not
        write, or its parent is not writable.
    """
    out = Path(out).expanduser().absolute()
    for keep in protect:
        keep = Path(keep).resolve()
        if out.resolve() in (keep, *keep.parents):
            raise OutputError(f"output folder {str(out)!r} contains the input {str(keep)!r}; writing the "
                              "report there could replace it. Choose another output folder.")
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {str(out)!r} is a file. Give a folder path (it is created).")
    if out.is_dir() and any(out.iterdir()):
        names = sorted(p.name for p in out.iterdir())
        if not overwrite:
            raise OutputError(
                f"output folder {str(out)!r} is not empty (holds {format_examples(names)}). "
                f"Pass {option} to replace it, or choose a new folder.")
        if not _looks_like_ours(out):
            raise OutputError(
                f"output folder {str(out)!r} holds files evalint did not write ({format_examples(names)}); "
                f"{option} only replaces an earlier evalint output folder. Choose a new folder.")
        cwd = Path.cwd().resolve()
        if out.resolve() in (cwd, *cwd.parents):
            raise OutputError(f"output folder {str(out)!r} contains the current directory; "
                              "choose another folder to replace.")
    check_writable_parent(out, "output folder")
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {str(out)!r} is not writable (permission denied).")
    return out


@contextlib.contextmanager
def output_folder(out: str | Path, *, overwrite: bool = False, option: str = "--overwrite",
                  protect: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it replaces ``out`` in one move.

    Parameters
    ----------
    out : path
        The output folder.
    overwrite : bool
        Replace a non-empty ``out`` (only if it looks like evalint output).
    option : str
        How the caller spells "overwrite", for the message.

    Raises
    ------
    OutputError
        As :func:`check_output_folder`.
    """
    out = check_output_folder(out, overwrite=overwrite, option=option, protect=protect)
    parent = out.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    try:
        (tmp / MARKER).write_text("written by evalint\n", encoding="utf-8")
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.is_dir() and not any(out.iterdir()):  # an empty folder (perhaps the current one) stays put
        replace_file_set(tmp, out)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def replace_file_set(tmp: Path, dest: Path) -> None:
    """Move every entry of ``tmp`` into ``dest``, replacing same-named files and folders whole.

    Raises
    ------
    OutputError
        A folder it would replace (a report's ``<stem>_figures/``) holds anything but figures:
        refused before anything is moved, so a user's own files there are never deleted.
    """
    for entry in tmp.iterdir():
        target = dest / entry.name
        if entry.is_dir() and target.is_dir() and not target.is_symlink():
            foreign = sorted(f.name for f in target.iterdir()
                             if not (f.is_file() and f.name.endswith(_FIGURE_SUFFIXES)))
            if foreign:
                raise OutputError(
                    f"{str(target)!r} holds files that are not figures ({format_examples(foreign)}); "
                    "writing the report would replace that folder whole. Move them, or write the "
                    "report under another name.")
    for entry in tmp.iterdir():
        target = dest / entry.name
        if target.is_dir() and not target.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{entry.name}.old-", dir=dest))
            old.rmdir()
            os.replace(target, old)
            os.replace(entry, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(entry, target)
