"""YAML presets of robo_flows, installed as the data package ``robo_flows.configs``.

Find one by name with ``robo_flows.config.presets.resolve_preset("detour_flow")``.
"""
