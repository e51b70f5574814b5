"""The RoboFlows Panda tasks (one module each) and the base class they share."""
