"""Scripted experts: pure functions from a task's state (and the episode's expert mode) to an action [4]."""
