"""Robot models driven by the tasks."""
