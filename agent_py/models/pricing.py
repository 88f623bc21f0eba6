"""An optional price table: turns Usage into money so the UI can show what a run cost.

No prices ship here (they change monthly and differ by provider); the user or the page supplies them, per million
tokens, e.g. `PriceTable.from_dict({"gpt-4o-mini": {"input": 0.15, "output": 0.6}})`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .types import Usage

__all__ = ["Price", "PriceTable"]


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.input_per_mtok + usage.completion_tokens * self.output_per_mtok) / 1e6


@dataclass(slots=True)
class PriceTable:
    prices: dict[str, Price] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, float]]) -> PriceTable:
        return cls({model: Price(float(p["input"]), float(p["output"])) for model, p in data.items()})

    def price_for(self, model: str) -> Price | None:
        """Exact name first, then the longest known prefix ("gpt-4o" prices "gpt-4o-2024-08-06")."""
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage) -> float | None:
        """Cost in the table's currency, or None when the model has no price (unknown is not free)."""
        price = self.price_for(model)
        return None if price is None else price.cost(usage)

    def to_dict(self) -> dict[str, Any]:
        return {m: {"input": p.input_per_mtok, "output": p.output_per_mtok} for m, p in self.prices.items()}
