"""Fault injection (SECURITY-CASES 18, 19, 17): the real loop, the real ModelClient over real httpx, and the
scripted model server on loopback injecting 429 storms with Retry-After, 5xx bursts, streams cut at random points,
slow first bytes, a server that stops answering, malformed JSON and SSE error events.

Each run is a seeded random script: every step's reply may be preceded by faults. The run must either finish or
end with a typed stop reason (a ModelError subclass named in its RunError), and every step the loop announced as
finished must be in the run record, done, with the model output it streamed: no finished step is ever lost.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from agent_py.errors import ModelError
from agent_py.guardrails import Limits, StopReason
from agent_py.loop import Agent
from agent_py.memory import RunRecord
from agent_py.models import ModelClient, ModelConfig, RetryPolicy
from tests.servers.model_server import ModelServer
from tests.tally import tally
from tests.unit.fakes import FakeSandbox, code

pytestmark = pytest.mark.anyio
RETRIES = 3
STEPS = 5
# Faults the client must retry through (none reaches the run when fewer than RETRIES come in a row).
RETRIED = [
    {"fault": "429", "retry_after": 0}, {"fault": "429", "retry_after": "0"}, {"fault": "500"}, {"fault": "502"},
    {"fault": "503", "retry_after": 0}, {"fault": "drop"}, {"fault": "cut", "after_chars": 0},
    {"fault": "truncate", "after_chars": 0}, {"fault": "bad_json", "after_chars": 0},
    {"fault": "slow_first_byte", "delay_s": 2.0},  # past the read timeout: the server stopped answering
]
# Faults that end the run, typed (text already reached the user, or a status that must not be retried).
ENDING = [
    lambda rng: [{"fault": "cut", "after_chars": rng.randint(1, 20), "text": code("print(1)")}],
    lambda rng: [{"fault": "bad_json", "after_chars": rng.randint(1, 20), "text": code("print(1)")}],
    lambda rng: [{"fault": "error_event", "after_chars": rng.randint(1, 20), "text": code("print(1)")}],
    lambda rng: [{"fault": "truncate", "after_chars": rng.randint(1, 20), "text": code("print(1)")}],
    lambda rng: [{"status": 401, "message": "bad key"}],
    lambda rng: [{"status": 400, "message": "bad request"}],
    lambda rng: [{"fault": "429", "retry_after": 0}] * (RETRIES + 1),  # a 429 storm past the retry budget
    lambda rng: [{"fault": rng.choice(["500", "502", "503"])} for _ in range(RETRIES + 1)],  # a 5xx burst
    lambda rng: [{"fault": "slow_first_byte", "delay_s": 2.0}] * (RETRIES + 1),  # a server that stopped answering
]


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


def script(rng: random.Random) -> tuple[list[Any], int]:
    """The server's replies for one run, and how many of them are faults."""
    replies: list[Any] = []
    faults = 0
    for step in range(1, STEPS + 1):
        if rng.random() < 0.15:
            ending = rng.choice(ENDING)(rng)
            return replies + ending, faults + len(ending)
        burst = [rng.choice(RETRIED) for _ in range(rng.randint(0, RETRIES))]
        body = code(f"final_answer({step})" if step == STEPS else f"print({step} * 7)", thought=f"Step {step}.")
        good: dict[str, Any] = {"text": body, "chunk_chars": rng.randint(3, 40)}
        if rng.random() < 0.2:
            good.update(first_delta_delay_s=0.05)  # slow, but inside the read timeout
        replies += [*burst, good]
        faults += len(burst)
    return replies, faults


@pytest.mark.parametrize("seed", range(24))
async def test_the_run_finishes_or_ends_typed_and_loses_no_finished_step(model_server: ModelServer,
                                                                          seed: int) -> None:
    rng = random.Random(seed)
    provider = rng.choice(["openai", "ollama"])
    replies, _ = script(rng)
    model_server.enqueue(*replies)
    config = ModelConfig(provider=provider, model="scripted-model", read_timeout_s=0.5, max_retries=RETRIES,
                         base_url=model_server.openai_base if provider == "openai" else model_server.url)
    events: list[dict[str, Any]] = []
    async with ModelClient(config, retry=RetryPolicy(RETRIES, sleep=NoSleep(), random=lambda: 0.0)) as client:
        agent = Agent(client, FakeSandbox(), limits=Limits(max_steps=STEPS + 1, stagnation_repeats=0))
        record = await agent.run("count in sevens", run_id=f"fault-{seed}", on_event=lambda e: events.append(
            e.to_dict()))
    consumed = len(model_server.chat_requests())
    injected = sum(1 for r in replies[:consumed] if isinstance(r, dict) and ("fault" in r or "status" in r))
    tally("faults injected", injected)

    assert record.status in ("finished", "failed"), record.status
    finished = [e["record"] for e in events if e["type"] == "StepFinished"]
    by_number = {s.step: s for s in record.steps}
    lost = [a["step"] for a in finished if a["step"] not in by_number or by_number[a["step"]].status != "done"
            or by_number[a["step"]].model_output != a["model_output"]]
    tally("steps lost", len(lost))
    assert lost == [] and all(a["model_output"] for a in finished)  # none lost, none changed after announced
    assert sum(s.status == "done" for s in record.steps) == len(finished)
    assert RunRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()  # what is stored loads back
    tally("steps finished under faults", len(finished))
    if record.status == "finished":
        assert record.stop_reason == StopReason.FINAL_ANSWER and record.final_answer == STEPS
        assert len(finished) == STEPS
        tally("faults survived (run finished)", injected)
    else:
        assert record.stop_reason == StopReason.ERROR
        (error,) = [e["error"] for e in events if e["type"] == "RunError"]
        names = {cls.__name__ for cls in _subclasses(ModelError)}
        assert error["type"] in names and error["message"], error
        assert [s.status for s in record.steps[:-1]] == ["done"] * (len(record.steps) - 1)
        assert record.steps[-1].status == "failed"
        tally("faults survived (run ended typed, no step lost)", injected)
    assert events[-1]["type"] == "RunFinished" and events[-1]["status"] == record.status


def _subclasses(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found
