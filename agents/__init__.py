"""Agents: what an organism or a tool is, and how it decides."""
