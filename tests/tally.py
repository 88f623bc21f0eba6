"""Counts the hardening suites report (inputs fuzzed, faults injected/survived, steps lost), printed at the end
of a pytest session by tests/conftest.py so the README's numbers can be re-measured with one command."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()


def tally(name: str, n: int = 1) -> None:
    COUNTS[name] += n


def summary_lines() -> list[str]:
    return [f"{name}: {COUNTS[name]}" for name in sorted(COUNTS)]
