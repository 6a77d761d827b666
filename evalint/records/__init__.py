"""Record-level hospital data (HES/SUS-like episodes) to evalint panels.

DuckDB in-process by default, the same query on Spark, and a pandas reference engine; one
definition of each derived outcome (:mod:`evalint.records.outcomes`) rendered for each engine;
a synthetic HES-like generator for tests, benchmarks and the vignette. Needs the ``records``
extra (``spark`` for Spark). Definitions: methods/records.md.
"""

from evalint.records.fields import HES_FIELDS, FieldMap
from evalint.records.outcomes import EMERGENCY_METHODS, KNOWN_METHODS, OUTCOMES
from evalint.records.panel import (
    ENGINES,
    RecordsFrame,
    episodes_to_frame,
    episodes_to_panel,
    records_panel,
)
from evalint.records.simulate import SimulatedEpisodes, simulate_episodes
from evalint.records.validate import RecordsDataError, RecordsQualityWarning, quality_table

__all__ = [
    "EMERGENCY_METHODS",
    "ENGINES",
    "HES_FIELDS",
    "KNOWN_METHODS",
    "OUTCOMES",
    "FieldMap",
    "RecordsDataError",
    "RecordsFrame",
    "RecordsQualityWarning",
    "SimulatedEpisodes",
    "episodes_to_frame",
    "episodes_to_panel",
    "quality_table",
    "records_panel",
    "simulate_episodes",
]
