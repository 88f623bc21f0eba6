"""Recorded demo traces (model replies only; the code runs for real in the sandbox)."""
