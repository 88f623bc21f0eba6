"""ToolPolicy: what happens between "the model called a tool" and "the tool runs".

    gate = PolicyGate(approve=ask_the_user)          # async (spec, args) -> bool
    result = await gate.call(spec, args)             # validate -> deny? -> rate cap -> ask? -> call -> JSON check
    guarded = gate.guard(spec)                       # the same spec, its `call` going through the gate

Order matters: arguments are validated first (a malformed call neither spends a rate token nor bothers the user),
"deny" refuses outright, the rate cap is taken before asking (a user is never asked for a call that would then be
refused), and "ask" needs an explicit True from the callback; no callback, a False or a failing callback all
refuse (fail closed: SECURITY-CASES.md case 26, an injected instruction must not get a gated tool run unasked).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agent_py.errors import ToolDenied, ToolError, ToolResultError

from .spec import RateLimit, ToolSpec, validate_arguments

__all__ = ["Approve", "PolicyGate", "TokenBucket", "check_json_result"]

Approve = Callable[[ToolSpec, dict[str, Any]], Awaitable[bool]]


class TokenBucket:
    """`limit.calls` tokens, refilled at calls/per_s per second on the injected clock."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.calls)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        rate = self.limit.calls / self.limit.per_s
        self._tokens = min(float(self.limit.calls), self._tokens + max(0.0, now - self._at) * rate)
        self._at = now

    def try_take(self) -> float:
        """0.0 when a token was taken, else the seconds until one is available."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) * self.limit.per_s / self.limit.calls


class PolicyGate:
    def __init__(self, approve: Approve | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._approve = approve
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    async def check(self, spec: ToolSpec, args: dict[str, Any]) -> None:
        """Raise ToolDenied (fields: tool, policy, reason, retry_after_s) unless this call may run now."""
        if spec.policy == "deny":
            raise ToolDenied(f"{spec.name} is disabled by its policy (deny); do not call it again, find another way",
                             tool=spec.name, policy="deny", reason="policy")
        if spec.rate_limit is not None:
            wait = self._bucket(spec).try_take()
            if wait > 0:
                limit = spec.rate_limit
                raise ToolDenied(f"{spec.name} is rate limited to {limit.calls} call(s) per {limit.per_s:g}s; "
                                 f"try again in {math.ceil(wait * 10) / 10:g}s", tool=spec.name, policy=spec.policy,
                                 reason="rate_limit", retry_after_s=wait)
        if spec.policy == "ask":
            if self._approve is None:
                raise ToolDenied(f"{spec.name} needs the user's approval and no one can be asked here",
                                 tool=spec.name, policy="ask", reason="no_approver")
            try:
                approved = await self._approve(spec, args)
            except Exception as err:  # noqa: BLE001 - an approval that failed is not an approval
                raise ToolDenied(f"{spec.name}: asking the user for approval failed ({err}); the call was not made",
                                 tool=spec.name, policy="ask", reason="approval_failed") from None
            if approved is not True:
                raise ToolDenied(f"the user declined the call to {spec.name}", tool=spec.name, policy="ask",
                                 reason="declined")

    def _bucket(self, spec: ToolSpec) -> TokenBucket:
        assert spec.rate_limit is not None
        key = (spec.source, spec.name)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.limit != spec.rate_limit:
            bucket = self._buckets[key] = TokenBucket(spec.rate_limit, self._clock)
        return bucket

    async def call(self, spec: ToolSpec, args: Any) -> Any:
        """Validate, gate, run, and check the result is JSON. Exceptions that are not ToolErrors are wrapped in a
        ToolError naming the tool, so a tool's bug reaches the model as an observation with a type it knows."""
        checked = validate_arguments(spec, args)
        await self.check(spec, checked)
        try:
            result = await spec.call(checked)
        except ToolError:
            raise
        except Exception as err:  # noqa: BLE001 - see the docstring
            raise ToolError(f"{spec.name} failed: {type(err).__name__}: {err}", tool=spec.name) from err
        return check_json_result(spec, result)

    def guard(self, spec: ToolSpec) -> ToolSpec:
        """A copy of `spec` whose `call` goes through this gate (for hosts that only know ToolSpec)."""

        async def gated(args: dict[str, Any]) -> Any:
            return await self.call(spec, args)

        return dataclasses.replace(spec, call=gated)


def check_json_result(spec: ToolSpec, result: Any) -> Any:
    """The result if JSON can carry it (finite numbers, str keys), else ToolResultError."""
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ToolResultError(f"{spec.name} returned something that is not JSON: {err}", tool=spec.name) from None
    return result
