"""Evaluation of policies (and scripted experts) on gymnasium vector environments.

``evaluate(actor, env_id, episodes, seed, out_dir)`` rolls out seeded episodes and writes ``results.json``
(success rate with a Wilson 95% interval, executed modes, replanning latency) with plots and a video.
"""

from robo_flows.evaluation.actors import Actor, ExpertActor, PolicyActor
from robo_flows.evaluation.evaluate import evaluate, expert_actor, policy_actor
from robo_flows.evaluation.metrics import wilson_interval
from robo_flows.evaluation.report import format_table
from robo_flows.evaluation.seeds import EVAL_SEED_OFFSET, episode_seeds

__all__ = [
    "EVAL_SEED_OFFSET",
    "Actor",
    "ExpertActor",
    "PolicyActor",
    "episode_seeds",
    "evaluate",
    "expert_actor",
    "format_table",
    "policy_actor",
    "wilson_interval",
]
