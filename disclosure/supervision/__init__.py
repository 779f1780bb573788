"""Supervision: the compliance report, its renderers and the annual-report figures."""
