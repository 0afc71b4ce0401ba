"""Alchemist: two coding agents that build and cross-check staffing optimizers and simulators."""
