"""Replication harness: published numbers vs what evalint reproduces."""

from evalint.replication.targets import Quantity, Target, list_targets, load_target, run_target, targets_root

__all__ = ["Quantity", "Target", "list_targets", "load_target", "run_target", "targets_root"]
