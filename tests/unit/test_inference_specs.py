"""Inference specifications validate their arguments when built, with typed errors."""

from __future__ import annotations

import pytest

from evalint.errors import EvalintError
from evalint.inference.specs import Bootstrap, MultiplierBootstrap, Placebo, WildClusterBootstrap


@pytest.mark.parametrize("spec", [WildClusterBootstrap, MultiplierBootstrap, Placebo, Bootstrap])
@pytest.mark.parametrize("seed", [-1, 1.5, "7"])
def test_bad_seed_is_a_typed_error_naming_seed(spec, seed):
    with pytest.raises(EvalintError, match="seed"):
        spec(seed=seed)


@pytest.mark.parametrize("spec", [WildClusterBootstrap, MultiplierBootstrap, Placebo, Bootstrap])
def test_good_seeds_accepted(spec):
    assert spec(seed=None).seed is None
    assert spec(seed=0).seed == 0
    assert spec(seed=2026).seed == 2026


@pytest.mark.parametrize("spec, reps", [(WildClusterBootstrap, 50), (MultiplierBootstrap, 10),
                                        (Placebo, 0), (Bootstrap, 1)])
def test_too_few_reps_rejected(spec, reps):
    with pytest.raises(ValueError, match="reps"):
        spec(reps=reps)
