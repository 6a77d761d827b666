"""Bad record-level input: typed errors naming the mapping; every rule counted, none silent."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

from evalint.errors import ColumnNotFoundError, EvalintError, SpecificationError
from evalint.records import (
    RecordsDataError,
    RecordsQualityWarning,
    episodes_to_frame,
    episodes_to_panel,
)

sys.path.insert(0, str(Path(__file__).parent))
import handmade


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_misnamed_field_lists_the_mapping(engine):
    src = handmade.episodes().rename(columns={"admimeth": "ADMIMETH"})
    with pytest.raises(ColumnNotFoundError) as err:
        episodes_to_frame(src, engine=engine)
    msg = str(err.value)
    assert "'admimeth'" in msg and "MISSING" in msg and "admission_method" in msg
    assert "spell_id" in msg and "'provspno'" in msg  # the whole mapping is listed
    # the override fixes it
    with pytest.warns(RecordsQualityWarning):
        rf = episodes_to_frame(src, engine=engine, fields={"admission_method": "ADMIMETH"})
    assert rf.fields["admission_method"] == "ADMIMETH"


def test_missing_ready_date_needs_an_explicit_opt_out():
    src = handmade.episodes().drop(columns="disreadydate")
    with pytest.raises(ColumnNotFoundError, match="discharge_ready_date"):
        episodes_to_frame(src, engine="duckdb")
    with pytest.warns(RecordsQualityWarning):
        rf = episodes_to_frame(src, engine="duckdb", fields={"discharge_ready_date": None})
    assert "delayed_discharge_days" not in rf.outcomes


def test_unknown_role_and_options():
    src = handmade.episodes()
    with pytest.raises(SpecificationError, match="unknown role"):
        episodes_to_frame(src, fields={"admission": "x"})
    with pytest.raises(EvalintError):
        episodes_to_frame(src, engine="polars")
    with pytest.raises(EvalintError):
        episodes_to_frame(src, unit="lsoa")
    with pytest.raises(EvalintError):
        episodes_to_frame(src, freq="Q")


def test_on_bad_error_raises_with_the_table():
    with pytest.raises(RecordsDataError) as err:
        episodes_to_frame(handmade.episodes(), on_bad="error")
    assert "area_not_in_lookup: 1" in str(err.value)
    assert err.value.table.set_index("rule").loc["overlapping_spells", "spells"] == 1


def test_on_bad_ignore_is_quiet_but_the_table_still_counts():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rf = episodes_to_frame(handmade.episodes(), on_bad="ignore")
    assert rf.quality.set_index("rule").loc["discharge_before_admission", "spells"] == 1


def test_clean_generated_data_gives_no_warning(small_extract):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecordsQualityWarning)
        episodes_to_panel(small_extract.path)


def test_missing_source_path(tmp_path):
    with pytest.raises(SpecificationError, match="does not exist"):
        episodes_to_frame(tmp_path / "nope")
