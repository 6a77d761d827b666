"""The built-in designs of :func:`evalint.evaluate`, one module each; importing a module
registers its design (:func:`evalint.evaluate.registry.register_design`). The order of the
imports is the order evaluate() runs the designs and the triangulation table shows them."""

# ruff: noqa: I001 - the import order is the designs' order; do not sort

from evalint.evaluate.plugins import its  # noqa: F401 - registers "its"
from evalint.evaluate.plugins import did  # noqa: F401 - registers "did"
from evalint.evaluate.plugins import synth  # noqa: F401 - registers "synth"
