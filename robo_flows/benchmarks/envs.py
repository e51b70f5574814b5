"""``robo-flows bench envs``: the RoboFlows Panda tasks against panda-gym, like for like, and what the physics
settings cost in fidelity.

Speed is env steps per second with a seeded stream of uniformly random actions (resets at episode ends
included, on both sides), timed round-robin by the harness (``robo_flows.benchmarks.harness``) and reported
as the ratio of medians, in two settings:

* ``equal``: both suites step 20 x 2 ms of physics per 0.04 s control period with the same 30 solver
  iterations (panda-gym's client is set to ours) and deterministic overlapping pairs;
* ``defaults``: each as shipped (ours 4 x 10 ms, 30 iterations; panda-gym 20 x 2 ms, pybullet's 50).

Rendering: an 84 x 84 frame per step on both sides through the same call (TinyRenderer, no shadows, the same
camera pose), our Panda with its full visual meshes as panda-gym's; and the cost of our camera observations
(``obs_mode="rgb"``, PickPlace and Detour: agentview layered and in one pass, eye_in_hand, both) against
state-only steps (``--parts cameras`` measures that section alone).

Fidelity of the defaults: the scripted experts' success at 4 x 10 ms and 20 x 2 ms on the same seeds; the
deviation of the end effector (and of the objects) when the 10 ms expert's actions are replayed at 2 ms; and
the PickPlace grasp under a shake (full-speed moves, a reversal, a 1 s hold) at both settings.

Profile: where an equal-physics step's time goes (``stepSimulation``, inverse kinematics, other simulator
queries, Python), from ``cProfile``.  And an ``AsyncVectorEnv``'s total steps/s with 1 and 2 workers.

The simulator packages (pybullet, gymnasium, panda-gym) are imported inside the functions, so importing this
module needs only the core.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robo_flows.benchmarks.harness import format_table, result_payload, time_interleaved, write_result

# RoboFlows id -> nearest panda-gym id (None: no counterpart)
PAIRS: dict[str, str | None] = {
    "RoboFlows/PandaReach-v0": "PandaReach-v3",
    "RoboFlows/PandaDetour-v0": None,
    "RoboFlows/PandaPush-v0": "PandaPush-v3",
    "RoboFlows/PandaPickPlace-v0": "PandaPickAndPlace-v3",
}
EQUAL_PHYSICS = {"physics_timestep": 0.002, "physics_substeps": 20}
FINE, COARSE = "20x2ms", "4x10ms"
PHYSICS = {COARSE: {}, FINE: EQUAL_PHYSICS}
RENDER_SIZE = 84
PACKAGES = ("pybullet", "gymnasium", "panda-gym")


# ---- making envs -----------------------------------------------------------------------------------------
def make(env_id: str, equal: bool, render: bool = False, **kwargs: Any):
    """An env of either suite: ``equal`` puts it on the shared physics (20 x 2 ms, our solver settings);
    ``render`` draws our Panda with its full visual meshes (panda-gym always does)."""
    import gymnasium as gym

    if env_id.startswith("RoboFlows/"):
        import robo_flows_envs  # noqa: F401  (registers the ids)

        physics = EQUAL_PHYSICS if equal else {}
        return gym.make(env_id, detailed_meshes=render, **physics, **kwargs)
    import panda_gym  # noqa: F401  (registers the ids)
    import pybullet as p
    from robo_flows_envs.sim import SOLVER_ITERATIONS

    env = gym.make(env_id)
    if equal:  # panda-gym already steps 20 x 2 ms; give it our solver settings
        p.setPhysicsEngineParameter(
            numSolverIterations=SOLVER_ITERATIONS,
            deterministicOverlappingPairs=1,
            physicsClientId=client(env),
        )
    return env


def client(env) -> int:
    """The pybullet client id of an env of either suite."""
    u = env.unwrapped
    return u.sim.cid if hasattr(u.sim, "cid") else u.sim.physics_client._client


class Stepper:
    """One env kept running across timed calls with a seeded stream of random actions; ``frame`` (optional)
    is drawn after every step."""

    def __init__(self, env, seed: int, frame: Callable[[], object] | None = None) -> None:
        self.env, self.frame = env, frame
        env.action_space.seed(seed)
        env.reset(seed=seed)

    def steps(self, n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                _, _, terminated, truncated, _ = self.env.step(self.env.action_space.sample())
                if self.frame is not None:
                    self.frame()
                if terminated or truncated:
                    self.env.reset()

        return run


def timed_steps_per_s(steppers: dict[str, Stepper], steps: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Interleaved timing of ``steps`` env steps per sample: median steps/s and the raw samples."""
    timings = time_interleaved({k: s.steps(steps) for k, s in steppers.items()}, repeats=rounds)
    return {
        k: {"steps_per_s": steps / t.median_s, "samples_steps_per_s": [steps / x for x in t.samples_s]}
        for k, t in timings.items()
    }


def _closing(envs: Sequence) -> None:
    for env in envs:
        env.close()


# ---- speed -----------------------------------------------------------------------------------------------
def speed(steps: int, rounds: int, seed: int) -> list[dict[str, Any]]:
    """Steps/s of every pair at equal physics and at the defaults (all contenders interleaved in one run)."""
    steppers: dict[str, Stepper] = {}
    try:
        for setting, equal in (("equal", True), ("defaults", False)):
            for ours, theirs in PAIRS.items():
                for env_id in (ours, theirs):
                    if env_id is not None:
                        steppers[f"{setting}|{env_id}"] = Stepper(make(env_id, equal), seed)
        measured = timed_steps_per_s(steppers, steps, rounds)
    finally:
        _closing([s.env for s in steppers.values()])
    return _pair_rows(measured, ("equal", "defaults"))


def _pair_rows(measured: dict[str, dict[str, Any]], settings: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for setting in settings:
        for ours, theirs in PAIRS.items():
            row: dict[str, Any] = {
                "setting": setting,
                "env": ours,
                "panda_gym": theirs,
                **measured[f"{setting}|{ours}"],
            }
            if theirs is not None:
                other = measured[f"{setting}|{theirs}"]
                row["panda_gym_steps_per_s"] = other["steps_per_s"]
                row["panda_gym_samples_steps_per_s"] = other["samples_steps_per_s"]
                row["ratio"] = row["steps_per_s"] / other["steps_per_s"]
            rows.append(row)
    return rows


def render_speed(steps: int, rounds: int, seed: int) -> list[dict[str, Any]]:
    """Steps/s with an 84 x 84 frame per step, both suites through one call, full meshes, equal physics.

    The camera is our agentview placed the same relative to each suite's robot base (panda-gym's Panda
    stands at x = -0.6), so both frames show their workspace from the same place."""
    from dataclasses import replace

    from robo_flows_envs.rendering import FixedCamera, capture
    from robo_flows_envs.tasks.base import PandaTaskEnv

    pose = PandaTaskEnv.agentview_pose
    steppers: dict[str, Stepper] = {}
    try:
        for ours, theirs in PAIRS.items():
            for env_id in (ours, theirs):
                if env_id is not None:
                    env = make(env_id, equal=True, render=True)
                    x, y, z = pose.target
                    target = (x + _robot_base_x(env), y, z)
                    camera = FixedCamera(replace(pose, target=target), RENDER_SIZE, RENDER_SIZE)
                    steppers[f"equal|{env_id}"] = Stepper(env, seed, _framer(client(env), camera, capture))
        measured = timed_steps_per_s(steppers, steps, rounds)
    finally:
        _closing([s.env for s in steppers.values()])
    return _pair_rows(measured, ("equal",))


def _robot_base_x(env) -> float:
    """x of the Panda's base: 0 in our tasks, panda-gym's from its simulator."""
    u = env.unwrapped
    return 0.0 if hasattr(u.sim, "cid") else float(u.sim.get_base_position("panda")[0])


def _framer(cid: int, camera, capture) -> Callable[[], object]:
    """A call drawing ``camera``'s frame of client ``cid``."""

    def frame() -> object:
        return capture(cid, camera.width, camera.height, camera.view, camera.projection)

    return frame


CAMERA_SETS: dict[str, dict[str, Any]] = {
    "state": {},
    "agentview": {"obs_mode": "rgb", "cameras": ["agentview"]},
    "agentview, one pass": {"obs_mode": "rgb", "cameras": ["agentview"]},
    "eye_in_hand": {"obs_mode": "rgb", "cameras": ["eye_in_hand"]},
    "both": {"obs_mode": "rgb"},
}
CAMERA_ENVS = ("RoboFlows/PandaPickPlace-v0", "RoboFlows/PandaDetour-v0")


def camera_env(env_id: str, name: str):
    """An env of ``CAMERA_SETS[name]`` at its defaults; ``"..., one pass"`` draws its fixed camera without
    the still layer (``FixedCamera(layered=False)``: every body every frame, as before layering)."""
    from robo_flows_envs.rendering import FixedCamera

    env = make(env_id, equal=False, **CAMERA_SETS[name])
    if name.endswith("one pass"):
        u = env.unwrapped
        old = u.cameras["agentview_image"]
        u.cameras["agentview_image"] = FixedCamera(u.agentview_pose, old.width, old.height, layered=False)
    return env


def camera_cost(steps: int, rounds: int, seed: int, env_ids: Sequence[str] = CAMERA_ENVS) -> dict[str, Any]:
    """Steps/s of each of ``env_ids`` at its defaults with 84 x 84 camera observations against state-only
    steps, every (task, cameras) pair interleaved in one run; ``vs_state`` is the ratio of medians."""
    steppers: dict[str, Stepper] = {}
    try:
        for env_id in env_ids:
            for name in CAMERA_SETS:
                steppers[f"{env_id}|{name}"] = Stepper(camera_env(env_id, name), seed)
        measured = timed_steps_per_s(steppers, steps, rounds)
    finally:
        _closing([s.env for s in steppers.values()])
    rows = []
    for env_id in env_ids:
        state = measured[f"{env_id}|state"]["steps_per_s"]
        for name in CAMERA_SETS:
            m = measured[f"{env_id}|{name}"]
            rows.append({"env": env_id, "cameras": name, **m, "vs_state": m["steps_per_s"] / state})
    return {"size": RENDER_SIZE, "rows": rows}


def _maker(env_id: str) -> Callable[[], object]:
    def make_one() -> object:
        return make(env_id, equal=False)

    return make_one


def vector_scaling(steps: int, rounds: int, seed: int) -> dict[str, Any]:
    """Total steps/s of an ``AsyncVectorEnv`` of PickPlace (both suites, defaults) with 1 and 2 workers,
    the four timed in alternation for ``rounds`` rounds; medians and their ratio."""
    import gymnasium as gym

    ids = ("RoboFlows/PandaPickPlace-v0", "PandaPickAndPlace-v3")
    samples: dict[str, list[float]] = {f"{i}|{w}": [] for i in ids for w in (1, 2)}
    vectors = {f"{i}|{w}": gym.vector.AsyncVectorEnv([_maker(i)] * w) for i in ids for w in (1, 2)}
    try:
        for envs in vectors.values():
            envs.action_space.seed(seed)
            envs.reset(seed=seed)
            envs.step(envs.action_space.sample())  # workers started and warm
        for _ in range(rounds):
            for key, envs in vectors.items():
                start = time.perf_counter()
                for _ in range(steps):
                    envs.step(envs.action_space.sample())
                samples[key].append(envs.num_envs * steps / (time.perf_counter() - start))
    finally:
        _closing(list(vectors.values()))
    out = {}
    for env_id in ids:
        one, two = (statistics.median(samples[f"{env_id}|{w}"]) for w in (1, 2))
        out[env_id] = {
            "workers_1": one,
            "workers_2": two,
            "scaling": two / one,
            "samples": {"workers_1": samples[f"{env_id}|1"], "workers_2": samples[f"{env_id}|2"]},
        }
    return out


# ---- fidelity --------------------------------------------------------------------------------------------
def expert_episode(env, seed: int, actions: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """One episode driven by the expert (or replaying ``actions``): success, length, EE and object paths."""
    _, info = env.reset(seed=seed)
    u = env.unwrapped
    replay = actions is not None
    taken, ee, objects = [], [u.ee_pos.copy()], [_object_positions(u)]
    done, t = False, 0
    while not done and (not replay or t < len(actions)):
        a = actions[t] if replay else u.expert_action()
        _, _, terminated, truncated, info = env.step(a)
        taken.append(a)
        ee.append(u.ee_pos.copy())
        objects.append(_object_positions(u))
        done, t = terminated or truncated, t + 1
    return {
        "success": bool(info["is_success"]),
        "actions": taken,
        "ee": np.array(ee),
        "objects": np.array(objects),
    }


def _object_positions(u) -> np.ndarray:
    """Positions of the task's free bodies (cubes), flattened; empty for tasks without."""
    return np.concatenate([u.sim.body_state(uid)[:3] for uid in u.sim.free_bodies] or [np.zeros(0)])


def fidelity(episodes: int, seed: int) -> list[dict[str, Any]]:
    """Per task: expert success at both settings on the same seeds, and the deviation of the 10 ms expert's
    actions replayed at 2 ms (max over steps of the EE distance; final object distance), medians over
    seeds."""
    rows = []
    for env_id in PAIRS:
        envs = {name: make(env_id, equal=(name == FINE)) for name in PHYSICS}
        try:
            success = {name: 0 for name in PHYSICS}
            ee_dev, obj_dev, replay_success = [], [], 0
            for i in range(episodes):
                s = seed + i
                coarse = expert_episode(envs[COARSE], s)
                fine = expert_episode(envs[FINE], s)
                success[COARSE] += coarse["success"]
                success[FINE] += fine["success"]
                replayed = expert_episode(envs[FINE], s, coarse["actions"])
                replay_success += replayed["success"]
                n = min(len(replayed["ee"]), len(coarse["ee"]))
                ee_dev.append(float(np.linalg.norm(replayed["ee"][:n] - coarse["ee"][:n], axis=1).max()))
                if coarse["objects"].shape[1]:
                    obj_dev.append(
                        float(np.linalg.norm(replayed["objects"][n - 1] - coarse["objects"][n - 1]))
                    )
        finally:
            _closing(list(envs.values()))
        rows.append(
            {
                "env": env_id,
                "episodes": episodes,
                f"expert_success_{COARSE}": success[COARSE] / episodes,
                f"expert_success_{FINE}": success[FINE] / episodes,
                "replayed_actions_success_20x2ms": replay_success / episodes,
                "replay_ee_max_dev_m_median": statistics.median(ee_dev),
                "replay_ee_max_dev_m_max": max(ee_dev),
                "replay_object_final_dev_m_median": statistics.median(obj_dev) if obj_dev else None,
            }
        )
    return rows


SHAKE = [(1, 0, 0)] * 3 + [(-1, 1, 0)] * 3 + [(0, -1, 1)] * 3 + [(0, 0, 0)] * 25


def grasp_hold(seeds: Sequence[int]) -> dict[str, Any]:
    """The PickPlace grasp under the shake of ``tests/envs/test_env_experts.py`` at both settings: the
    largest cube-in-hand drift (m) and the creep over the last 20 steps of a 1 s hold, worst over seeds."""
    out = {}
    for name in PHYSICS:
        env = make("RoboFlows/PandaPickPlace-v0", equal=(name == FINE))
        drift, creep, held = [], [], 0
        try:
            u = env.unwrapped
            for s in seeds:
                env.reset(seed=s)
                cube = u.cubes[u.mode_names.index(u.expert_mode)]
                for _ in range(60):  # the expert grasps and lifts
                    if u.sim.body_state(cube)[2] >= 0.07:
                        break
                    env.step(u.expert_action())
                start = u.sim.body_state(cube)[:3] - u.ee_pos
                d = []
                for v in SHAKE:
                    env.step(np.array([*v, -1.0], dtype=np.float32))
                    d.append(u.sim.body_state(cube)[:3] - u.ee_pos - start)
                drift.append(max(float(np.linalg.norm(x)) for x in d))
                creep.append(float(np.linalg.norm(d[-1] - d[-20])))
                held += drift[-1] < 0.02
        finally:
            env.close()
        out[name] = {"seeds": len(seeds), "held": held, "max_drift_m": max(drift), "max_creep_m": max(creep)}
    return out


# ---- profile ---------------------------------------------------------------------------------------------
SIM_QUERIES = ("getLinkState", "getJointStates", "getBasePositionAndOrientation", "getBaseVelocity",
               "getContactPoints", "setJointMotorControlArray")  # fmt: skip


def profile_step(env_id: str, steps: int, seed: int, equal: bool = True) -> dict[str, Any]:
    """Shares of an env step's time (cProfile, which inflates the Python share a little): physics
    (``stepSimulation``), inverse kinematics, other simulator calls, and the rest (Python)."""
    env = make(env_id, equal)
    try:
        stepper = Stepper(env, seed)
        run = stepper.steps(steps)
        profiler = cProfile.Profile()
        profiler.enable()
        run()
        profiler.disable()
    finally:
        env.close()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = sum(v[2] for v in stats.values())
    by_name = {}
    for (_, _, name), v in stats.items():
        by_name[name] = by_name.get(name, 0.0) + v[2]

    def builtin(method: str) -> float:
        return by_name.get(f"<built-in method pybullet.{method}>", 0.0)

    physics, ik = builtin("stepSimulation"), builtin("calculateInverseKinematics")
    queries = sum(builtin(m) for m in SIM_QUERIES)
    parts = {"stepSimulation": physics, "inverse kinematics": ik, "simulator queries": queries}
    parts["python and the rest"] = total - sum(parts.values())
    return {
        "env": env_id,
        "setting": "equal" if equal else "defaults",
        "ms_per_step_profiled": 1e3 * total / steps,
        "shares": {k: v / total for k, v in parts.items()},
    }


# ---- run and print ---------------------------------------------------------------------------------------
PARTS = ("speed", "render", "cameras", "async_vector", "fidelity", "grasp_hold", "profile")


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """The sections of ``args.parts`` (all of ``PARTS`` by default), each measured in its own run."""
    parts: dict[str, Callable[[], Any]] = {
        "speed": lambda: speed(args.steps, args.rounds, args.seed),
        "render": lambda: render_speed(max(args.steps // 10, 1), args.rounds, args.seed),
        "cameras": lambda: camera_cost(max(args.steps // 5, 1), args.rounds, args.seed),
        "async_vector": lambda: vector_scaling(args.vector_steps, args.rounds, args.seed),
        "fidelity": lambda: fidelity(args.episodes, args.seed),
        "grasp_hold": lambda: grasp_hold(range(args.seed, args.seed + max(args.episodes // 2, 1))),
        "profile": lambda: [
            profile_step("RoboFlows/PandaPickPlace-v0", args.steps, args.seed, equal=True),
            profile_step("RoboFlows/PandaPickPlace-v0", args.steps, args.seed, equal=False),
        ],
    }
    return {name: run() for name, run in parts.items() if name in args.parts}


def format_report(results: dict[str, Any]) -> str:
    """Plain-text tables of the sections ``results`` holds."""
    out = []
    heads = ["setting", "env", "steps/s", "panda-gym", "ratio"]
    for part in ("speed", "render"):
        if part in results:
            rows = [
                [r["setting"], r["env"], r["steps_per_s"], r.get("panda_gym_steps_per_s", "-")]
                + [r.get("ratio", "-")]
                for r in results[part]
            ]
            out.append(
                "steps/s" if part == "speed" else "+ one 84x84 frame per step, full meshes, equal physics"
            )
            out.append(format_table(heads, rows))
    if "cameras" in results:
        cams = results["cameras"]
        out.append(f"\ncamera observations ({cams['size']}x{cams['size']}, defaults)")
        out.append(
            format_table(
                ["env", "cameras", "steps/s", "vs state"],
                [[r["env"], r["cameras"], r["steps_per_s"], r["vs_state"]] for r in cams["rows"]],
            )
        )
    if "async_vector" in results:
        out.append("\nAsyncVectorEnv total steps/s")
        out.append(
            format_table(
                ["env", "1 worker", "2 workers", "scaling"],
                [
                    [k, v["workers_1"], v["workers_2"], v["scaling"]]
                    for k, v in results["async_vector"].items()
                ],
            )
        )
    if "fidelity" in results:
        out.append("\nfidelity: expert success, and the 4x10ms expert's actions replayed at 20x2ms")
        heads = ["env", "episodes", "expert 4x10ms", "expert 20x2ms", "replay success", "EE dev median (m)"]
        heads += ["EE dev max (m)", "object dev (m)"]
        rows = []
        for r in results["fidelity"]:
            obj = r["replay_object_final_dev_m_median"]
            rows.append(
                [r["env"], r["episodes"], r[f"expert_success_{COARSE}"], r[f"expert_success_{FINE}"]]
                + [r["replayed_actions_success_20x2ms"], r["replay_ee_max_dev_m_median"]]
                + [r["replay_ee_max_dev_m_max"], "-" if obj is None else obj]
            )
        out.append(format_table(heads, rows))
    if "grasp_hold" in results:
        out.append("\nPickPlace grasp under shake")
        out.append(
            format_table(
                ["physics", "held / seeds", "max drift (m)", "max creep (m)"],
                [
                    [k, f"{v['held']}/{v['seeds']}", v["max_drift_m"], v["max_creep_m"]]
                    for k, v in results["grasp_hold"].items()
                ],
            )
        )
    if "profile" in results:
        out.append("\nwhere a step's time goes (cProfile)")
        out.append(
            format_table(
                ["env", "setting", "ms/step", *results["profile"][0]["shares"]],
                [
                    [r["env"], r["setting"], r["ms_per_step_profiled"], *r["shares"].values()]
                    for r in results["profile"]
                ],
            )
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robo-flows bench envs", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=200, help="env steps per timed sample (rendered: a tenth)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    parser.add_argument(
        "--vector-steps", type=int, default=200, help="vector steps per AsyncVectorEnv sample"
    )
    parser.add_argument(
        "--episodes", type=int, default=20, help="expert episodes per task and setting (fidelity)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="sections to measure (default: all); e.g. --parts cameras",
    )
    parser.add_argument("--label", default=None, help="what kind of run this is (stored in the JSON)")
    parser.add_argument(
        "--out", type=Path, default=Path("runs/bench/envs.json"), help="JSON file (never overwritten)"
    )
    args = parser.parse_args(argv)
    for name in ("steps", "rounds", "vector_steps", "episodes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.out.exists():
        parser.error(f"--out {args.out} exists; benchmark results are never overwritten")
    start = time.perf_counter()
    results = run_benchmark(args)
    settings = {k: getattr(args, k) for k in ("steps", "rounds", "vector_steps", "episodes", "seed", "parts")}
    settings.update(
        equal_physics=EQUAL_PHYSICS,
        render_size=RENDER_SIZE,
        wall_seconds=round(time.perf_counter() - start, 1),
    )
    print(format_report(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_result(
        args.out,
        result_payload("envs", settings=settings, results=results, packages=PACKAGES, label=args.label),
    )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
