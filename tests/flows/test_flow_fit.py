"""Fit quality against zuko: a short training run on the 6-D conditional data set of issue 9.

``ring_warp6`` (a 3-mode ring turning with the context, warps, a narrow context-weighted coordinate): after
the same Adam steps on the same batches, our MAF's held-out NLL must be within :data:`MARGIN` nats of zuko's
MAF, averaged over three seeds.  With the conditioners' last layers zero-initialised (the identity start
the MAF had before), our mean is ~0.35 nats worse than zuko's; with the default random start it is level.
"""

from __future__ import annotations

import statistics

import pytest

from robo_flows.benchmarks.flows_nll import held_out_nll

pytest.importorskip("zuko")

MARGIN = 0.15  # nats
SEEDS = (0, 1, 2)
SETTING = {"steps": 150, "batch": 256, "held_out": 4000, "layers": 5, "hidden_features": (64, 64)}


@pytest.mark.slow
def test_maf_held_out_nll_is_level_with_zuko_on_ring_warp6():
    ours = [held_out_nll("robo_flows", "maf", "ring_warp6", seed=s, **SETTING) for s in SEEDS]
    zuko = [held_out_nll("zuko", "maf", "ring_warp6", seed=s, **SETTING) for s in SEEDS]
    gap = statistics.mean(ours) - statistics.mean(zuko)
    assert gap <= MARGIN, f"ours {ours} vs zuko {zuko}: mean gap {gap:.3f} nats > {MARGIN}"
