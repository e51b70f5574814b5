"""Side-by-side benchmarks: each prints its tables and writes one JSON result through the harness.

``harness``   interleaved timing, machine info, result JSON that is never overwritten, tables, threads.
``flows``     robo_flows' flows against zuko and nflows (``flows_*``, ``toys``: its parts).
``envs``      the RoboFlows tasks against panda-gym, at equal physics and at the defaults.
``policy``    every policy kind trained on the task presets and evaluated beside the expert
              (``task_runs``: collect, train a preset, shared with ``scripts/demo.py``).
``grasps``    PoseFlow's exactness on uniform rotations and grasp sampling speed.
``render``    README / docs tables from the committed results in ``benchmarks/results/``.
"""
