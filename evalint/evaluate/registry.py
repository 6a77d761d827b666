"""The designs :func:`evalint.evaluate` can run, as plug-ins.

A :class:`Design` is what ``designs=[...]`` names (``"its"``, ``"did"``, ``"synth"``). It
declares, in one object:

* **when it is identified**: ``identify(panel, assignment)`` returns the
  :class:`~evalint.evaluate.designs.DesignPlan` (s) to run, each with the reason it was chosen,
  or the plain-language reason it is skipped;
* its **variants** (:class:`Variant`): the runs whose results are keyed ``(key, outcome)``
  (ITS on the aggregate series or per unit; synthetic control and synthetic DiD), each with
  its report label, how it **runs** one outcome, how its result goes on the **common scale**
  (:mod:`evalint.evaluate.scale`), the identifying assumption the triangulation names, its key
  diagnostics, and whether it is shown apart from the verdict;
* the bootstrap / placebo **replications** it draws (full and ``fast=True``);
* the report's **figures** of its results (optional).

The built-in designs are in :mod:`evalint.evaluate.plugins` (one module each) and register
themselves when :mod:`evalint.evaluate` is imported. Adding a design is one new module that
calls :func:`register_design`, and (for a built-in one) one import line in
``evalint/evaluate/plugins/__init__.py``; evaluate(), the configuration schema, the
triangulation, the report and the command line read the registry. Walkthrough:
ARCHITECTURE.md, "How to add a design to evaluate()".

References
----------
Lawlor, D.A., Tilling, K. & Davey Smith, G. (2016). Triangulation in aetiological
epidemiology. International Journal of Epidemiology 45(6), 1866-1886.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from evalint.errors import SpecificationError

__all__ = [
    "Design", "DesignPlan", "FigureSpec", "Variant", "design_names", "get_design", "get_variant", "list_designs",
    "build_with_options", "check_option_names", "option_keys", "register_design", "replications",
    "unregister_design", "variants",
]

#: ``run(ctx, outcome, plan) -> (result, extras)``: ``ctx`` is the
#: :class:`~evalint.evaluate.context.Context` of the evaluation, ``plan`` the chosen DesignPlan
Runner = Callable[..., tuple[Any, dict[str, Any]]]
#: ``scale(result, ctx, outcome, totals, spec) -> ScaledEffect`` (:mod:`evalint.evaluate.scale`)
Scaler = Callable[..., Any]


@dataclass(frozen=True)
class DesignPlan:
    """One design to run: its key, family, label and why it was chosen."""

    key: str
    family: str
    label: str
    reason: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    """One report figure of a design's result: drawn by ``draw()`` (a matplotlib Figure)."""

    slug: str
    title: str
    caption: str
    draw: Callable[[], Any]


@dataclass(frozen=True)
class Variant:
    """One run of a design: its results are keyed ``(key, outcome)``.

    Attributes
    ----------
    key : str
        Result key (``"its"``, ``"its_units"``, ``"did"``, ``"scm"``, ``"sdid"``); unique across designs.
    label : str
        The report label (``"DiD (Callaway-Sant'Anna)"``).
    run : callable
        ``run(ctx, outcome, plan) -> (EffectResult, extras)``: fit one outcome.
    scale : callable
        ``scale(result, ctx, outcome, totals, spec) -> ScaledEffect``: the result on the common scale.
    assumption : str
        The identifying assumption, named when designs disagree.
    key_diagnostics : tuple of str
        Diagnostic names shown in the triangulation table's ``key_diagnostic`` column.
    options_key : str, optional
        The key of ``evaluate(options={...})`` it reads (default: ``key``).
    apart : str, optional
        Why the variant is shown in the table but left out of the verdict (``None``: in it).
    short_label : str
        A short name for narrow tables (default: ``label``).
    cost : float
        Relative cost of one fit, for scheduling only: with ``evaluate(jobs=2)`` the costliest
        fits start first (default 1).
    check_options : callable, optional
        ``check_options(options, panel, outcomes)``: run by :func:`evalint.evaluate` before any fit
        on the user's ``options[option_key]`` (a dict); raises a
        :class:`~evalint.errors.SpecificationError` for an option the variant does not take or a
        value its estimator refuses (:func:`check_option_names`, :func:`build_with_options`).
        ``None``: the options are not checked before the fits.
    """

    key: str
    label: str
    run: Runner
    scale: Scaler
    assumption: str
    key_diagnostics: tuple[str, ...] = ()
    options_key: str | None = None
    apart: str | None = None
    short_label: str = ""
    cost: float = 1.0
    check_options: Callable[[dict[str, Any], Any, tuple[str, ...]], None] | None = None

    @property
    def option_key(self) -> str:
        return self.options_key or self.key


@dataclass(frozen=True)
class Design:
    """A design :func:`evalint.evaluate` can run: what ``designs=[...]`` names.

    Attributes
    ----------
    name : str
        The name users write (``"synth"``): lower case letters, digits and ``_``.
    title : str
        Plain words for messages (``"synthetic control"``).
    variants : tuple of Variant
        Its runs, in the order the triangulation table shows them.
    identify : callable
        ``identify(panel, assignment) -> list[DesignPlan] | str``: the runs the data support
        (see :meth:`plan`) or the reason the design is not identified.
    replications : mapping
        Name -> ``(full, fast)`` bootstrap / placebo draws (recorded in the provenance;
        runs read them with ``ctx.reps(name)``).
    figures : callable, optional
        ``figures(ev, outcome, words, where, span, name) -> list[FigureSpec]``: the report's
        figures of its results on one outcome of Evaluation ``ev`` (``words``: the outcome in
        plain words; ``where``: "the 4 treated units"; ``span``: the analysis window;
        ``name``: the intervention's name).
    """

    name: str
    title: str
    variants: tuple[Variant, ...]
    identify: Callable[[Any, Any], Any]
    replications: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    figures: Callable[..., list[FigureSpec]] | None = None

    def plan(self, key: str, reason: str, **options: Any) -> DesignPlan:
        """The DesignPlan that runs variant ``key`` (label and family filled in)."""
        v = next((v for v in self.variants if v.key == key), None)
        if v is None:
            raise SpecificationError(f"design {self.name!r} has no variant {key!r}; its variants are "
                                     f"{', '.join(v.key for v in self.variants)}.")
        return DesignPlan(key, self.name, v.label, reason, dict(options))


_DESIGNS: dict[str, Design] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_design(design: Design) -> Design:
    """Add ``design`` to the designs :func:`evalint.evaluate` can run; returns it.

    Raises
    ------
    SpecificationError
        The name is not lower-case ``[a-z][a-z0-9_]*`` or is ``"auto"``, it has no variant,
        or its name or a variant key is already registered (unregister it first).
    """
    if not isinstance(design, Design):
        raise SpecificationError(f"register_design() takes a Design; got {type(design).__name__}.")
    if not _NAME.fullmatch(design.name) or design.name == "auto":
        raise SpecificationError(f"design name {design.name!r} must be lower case letters, digits and '_' "
                                 "(starting with a letter), and not 'auto'.")
    if not design.variants:
        raise SpecificationError(f"design {design.name!r} declares no variant (the runs it makes).")
    if design.name in _DESIGNS:
        raise SpecificationError(f"a design named {design.name!r} is already registered; unregister_design("
                                 f"{design.name!r}) first to replace it.")
    taken = {v.key: d.name for d in _DESIGNS.values() for v in d.variants}
    keys = [v.key for v in design.variants]
    clash = [k for k in keys if k in taken] + [k for i, k in enumerate(keys) if k in keys[:i]]
    if clash:
        raise SpecificationError(f"design {design.name!r}: variant key {clash[0]!r} is already used"
                                 f"{' by design ' + repr(taken[clash[0]]) if clash[0] in taken else ''}; "
                                 "result keys must be unique.")
    _DESIGNS[design.name] = design
    return design


def unregister_design(name: str) -> Design:
    """Remove the design ``name`` from the registry; returns it."""
    try:
        return _DESIGNS.pop(name)
    except KeyError:
        raise SpecificationError(f"no design named {name!r} is registered; designs: "
                                 f"{', '.join(_DESIGNS)}.") from None


def list_designs() -> tuple[Design, ...]:
    """The registered designs, in registration order (the order evaluate() runs them)."""
    return tuple(_DESIGNS.values())


def design_names() -> tuple[str, ...]:
    """The names ``designs=[...]`` accepts (besides ``"auto"``)."""
    return tuple(_DESIGNS)


def get_design(name: str) -> Design:
    """The registered design ``name``."""
    if name not in _DESIGNS:
        raise SpecificationError(f"no design named {name!r}; designs: {', '.join(_DESIGNS)}.")
    return _DESIGNS[name]


def variants() -> Iterator[Variant]:
    """Every variant of every registered design, in order."""
    for d in _DESIGNS.values():
        yield from d.variants


def get_variant(key: str) -> Variant | None:
    """The variant with result key ``key`` (``None`` when no design has it)."""
    return next((v for v in variants() if v.key == key), None)


def option_keys() -> tuple[str, ...]:
    """The keys ``evaluate(options={...})`` accepts, in order."""
    return tuple(dict.fromkeys(v.option_key for v in variants()))


def replications(fast: bool) -> dict[str, int]:
    """Every design's bootstrap / placebo replications (``fast``: the smaller numbers)."""
    return {k: (fa if fast else fu) for d in _DESIGNS.values() for k, (fu, fa) in d.replications.items()}


class VariantView(Mapping[str, Any]):
    """A read-only mapping variant key -> one attribute, read from the registry when used."""

    def __init__(self, attribute: str, skip_none: bool = False) -> None:
        self._attribute = attribute
        self._skip_none = skip_none

    def _items(self) -> dict[str, Any]:
        out = {v.key: getattr(v, self._attribute) for v in variants()}
        return {k: x for k, x in out.items() if x is not None} if self._skip_none else out

    def __getitem__(self, key: str) -> Any:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return repr(self._items())


def _where(key: str) -> str:
    return f"options[{key!r}] ([evaluation.options.{key}] in a configuration file)"


def check_option_names(key: str, options: Mapping[str, Any], allowed: Iterable[str],
                       reserved: Mapping[str, str] | None = None) -> None:
    """Refuse option names of ``evaluate(options={key: options})`` that the design does not take.

    Parameters
    ----------
    key : str
        The options key (``"its"``, ``"did"``, ...).
    options : mapping
        The user's options for that key.
    allowed : iterable of str
        The names the design passes on to its estimator.
    reserved : mapping, optional
        Name -> the :func:`evalint.evaluate` argument that sets it (``"alpha"`` ->
        ``"alpha= ([evaluation] alpha)"``): refused with that pointer.

    Raises
    ------
    SpecificationError
        An unknown name (with the closest allowed one) or a reserved one.
    """
    import difflib

    names = sorted(set(allowed))
    reserved = dict(reserved or {})
    bad = [n for n in options if not isinstance(n, str)]
    if bad:
        raise SpecificationError(f"{_where(key)}: option names are strings; got {bad[0]!r}.")
    taken = [n for n in options if n in reserved]
    if taken:
        n = taken[0]
        raise SpecificationError(f"{_where(key)}: {n!r} is set by evaluate() itself, from {reserved[n]}; "
                                 f"remove it from the {key} options.")
    unknown = [n for n in options if n not in names]
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1, cutoff=0.6)
        mean = f" Did you mean {close[0]!r}?" if close else ""
        others = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
        raise SpecificationError(f"{_where(key)}: unknown option {unknown[0]!r}{others}.{mean} "
                                 f"The {key} options are: {', '.join(names)}.")


def build_with_options(key: str, cls: Callable[..., Any], options: Mapping[str, Any],
                       base: Mapping[str, Any] | None = None) -> Any:
    """``cls(**base, **options)``: the estimator the design would build, so that a value it refuses
    stops :func:`evalint.evaluate` before any fit.

    Raises
    ------
    SpecificationError
        The estimator refuses a value (its message, prefixed with where the option was given), or
        a value of the wrong type makes it fail (the option named).
    """
    from evalint.errors import EvalintError

    base = dict(base or {})
    try:
        return cls(**{**base, **options})
    except EvalintError as exc:
        raise SpecificationError(f"{_where(key)}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        culprit = ""
        for name, value in options.items():  # the option that fails on its own
            try:
                cls(**{**base, name: value})
            except Exception:  # noqa: BLE001 - any failure names this option
                culprit = f" {name} = {value!r} ({type(value).__name__}) is not a value it takes"
                break
        raise SpecificationError(f"{_where(key)}:{culprit or ' a value has the wrong type'} ({exc}).") from None
