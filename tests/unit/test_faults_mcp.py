"""Fault injection against MCP (issue 9): the real loop, the real ModelClient against the scripted model server,
the run's tools from RunTools (the MCP client and an HTTP gateway), and a fault proxy (tests/servers/
mcp_fault_proxy.py) in front of the official SDK's MCP server, both answer styles (SSE streams, JSON bodies).

Each run is a seeded script. Discovery (initialize, notifications/initialized, the first tools/list page) may meet
a fault; then each of three steps' code cells calls MCP tools whose first calls meet faults (a 429 storm or a 5xx
burst is several faulted calls in a row), then one clean MCP call and the gateway's `report`, and prints what each
call gave. Across the seeds every fault kind strikes tools/call in both answer styles.

What must hold: the run finishes (an MCP fault is the model's observation, never the run's end); every failed call
reached the cell as a catchable ToolError subclass named for what happened (ToolServerError, ToolTimeout,
ToolConnectError: never a bare ToolError wrapping an untyped exception, never a hang past the call's timeout); the
clean call after the faults works (the session recovered); a discovery fault leaves a typed warning and a run that
still has the gateway's tools; no step announced finished is lost or changed in the run record.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from agent_py.errors import ToolError, ToolTimeout
from agent_py.guardrails import Limits, StopReason
from agent_py.loop import Agent
from agent_py.memory import RunRecord
from agent_py.models import ModelClient, ModelConfig
from agent_py.run_tools import RunTools
from agent_py.tool_settings import ToolSettings
from agent_py.toolkit import McpServer
from tests.servers.gateway_server import GatewayServer
from tests.servers.mcp_fault_proxy import BAD_SSE_VARIANTS, FAULT_KINDS, McpFaultProxy
from tests.servers.mcp_server import McpTestServer
from tests.servers.model_server import ModelServer
from tests.tally import tally
from tests.unit.fakes import FakeSandbox, code

pytest_plugins = ["tests.servers.mcp_fixtures"]
pytestmark = pytest.mark.anyio

TIMEOUT_S = 1.0  # the MCP calls' timeout (Settings' "Tool call timeout"); short so silent servers cost little
# A call may end this much after its timeout on a loaded 2-core machine. This is the deadline contract (no hang),
# not a speed measurement: before the cancellation went out in the background, a silent server held a timed-out
# call one whole extra timeout.
HANG_SLACK_S = 2.0
TOOL_STEPS = 3
TYPED = {"ToolServerError", "ToolTimeout", "ToolConnectError"}
HTTP_DATE = "Fri, 27 Nov 2026 23:59:59 GMT"

# One factory per fault kind; `calls` > 1 makes a storm/burst of that many faulted calls in a row.
FAULTS: list[Callable[[random.Random], dict[str, Any]]] = [
    lambda r: {"kind": "429", "retry_after": r.choice(["0", "1", "120", HTTP_DATE]), "calls": r.randint(2, 3)},
    lambda r: {"kind": r.choice(["500", "502", "503"]), "html": r.random() < 0.5, "calls": r.randint(2, 3)},
    lambda r: {"kind": "cut", "at": r.random()},
    lambda r: {"kind": "truncate", "at": r.random()},
    lambda r: {"kind": "slow", "delay_s": r.choice([0.05, 0.3, TIMEOUT_S + 0.5])},
    lambda r: {"kind": "drip", "step": r.randint(16, 96), "every_s": r.choice([0.005, 0.02])},
    lambda r: {"kind": "hang"},
    lambda r: {"kind": "drop"},
    lambda r: {"kind": "garbage"},
    lambda r: {"kind": "bad_json", "style": r.choice(["sse", "json"])},
    lambda r: {"kind": "bad_sse", "variant": r.randrange(len(BAD_SSE_VARIANTS))},
    lambda r: {"kind": "wrong_id"},
    lambda r: {"kind": "oversized", "style": r.choice(["sse", "json"])},
    lambda r: {"kind": "expire"},
]
SEEDS = 2 * len(FAULTS)  # per answer style, every kind strikes TOOL_STEPS times

# MCP calls the cells make: (python call, what it must give). The faulted ones answer in one piece (the proxy's
# buffered faults read the whole answer); in SSE style the clean one may also ping the client (chatty) or close
# its stream and be resumed (poll); a JSON-body server has no channel for either.
FAULTED_CALLS = [("add(a=20, b=22)", {"result": 42}), ("echo(text='hi', repeat=2)", {"result": "hihi"}),
                 ("weather(city='Oslo')", {"city": "Oslo", "temp_c": 21.5, "sky": "clear"})]
CLEAN_CALLS = [*FAULTED_CALLS, ("lookup_item(item_id='a1')", {"result": "item a1"})]
SSE_ONLY_CALLS = [("chatty(text='x')", {"result": "done x"}), ("poll(seconds=0.05)", {"result": "polled after 0.05"})]


@pytest.fixture(scope="session")
def fault_proxies(mcp_server_session: McpTestServer,
                  mcp_json_server_session: McpTestServer) -> Iterator[dict[str, McpFaultProxy]]:
    with McpFaultProxy(mcp_server_session.url) as sse, McpFaultProxy(mcp_json_server_session.url) as json_:
        yield {"sse": sse, "json": json_}


@pytest.fixture
def proxies(fault_proxies: dict[str, McpFaultProxy]) -> Iterator[dict[str, McpFaultProxy]]:
    for proxy in fault_proxies.values():
        proxy.reset()
    yield fault_proxies
    for proxy in fault_proxies.values():
        proxy.reset()


def cell(calls: list[tuple[str, str]]) -> str:
    """A cell that makes each call, catches ToolError (as model code does), and prints a JSON line per call:
    [label, "ok", value, seconds] or [label, error class, message, seconds]. `report` is the gateway's tool."""
    listed = ", ".join(f"({label!r}, lambda: {call})" for label, call in calls)
    return (
        "import json, time\n"
        "outcomes = []\n"
        f"for label, call in [{listed}]:\n"
        "    started = time.monotonic()\n"
        "    try:\n"
        "        value = call()\n"
        "        outcomes.append([label, 'ok', value, time.monotonic() - started])\n"
        "    except ToolError as err:\n"
        "        outcomes.append([label, type(err).__name__, str(err)[:200], time.monotonic() - started])\n"
        "for outcome in outcomes:\n"
        "    print(json.dumps(outcome))\n"
    )


def settings(proxy: McpFaultProxy, gateway: GatewayServer) -> ToolSettings:
    return ToolSettings.from_page({"mcp": [{"url": proxy.url, "name": "flaky", "policy": "allow"}],
                                   "gateways": [{"url": gateway.url, "name": "office", "policy": "allow"}],
                                   "timeoutS": TIMEOUT_S})


async def run_agent(model_server: ModelServer, tools: RunTools, run_id: str) -> tuple[RunRecord, list[dict]]:
    config = ModelConfig(provider="openai", model="scripted-model", base_url=model_server.openai_base)
    events: list[dict[str, Any]] = []
    sandbox = FakeSandbox(tools=list(tools.sandbox_tools))
    async with ModelClient(config) as client:
        agent = Agent(client, sandbox, limits=Limits(max_steps=TOOL_STEPS + 2, stagnation_repeats=0),
                      untrusted_tools=tools.untrusted)
        # A hang guard, far past what the faults can cost (each call ends by its timeout): a hang fails here.
        async with asyncio.timeout(60):
            record = await agent.run("use the flaky tools", run_id=run_id,
                                     on_event=lambda e: events.append(e.to_dict()))
    return record, events


def lost_steps(record: RunRecord, events: list[dict[str, Any]]) -> list[int]:
    """Steps announced finished (StepFinished) that are missing, not done, or changed in the record."""
    finished = [e["record"] for e in events if e["type"] == "StepFinished"]
    by_number = {s.step: s for s in record.steps}
    return [a["step"] for a in finished if a["step"] not in by_number or by_number[a["step"]].status != "done"
            or by_number[a["step"]].model_output != a["model_output"]]


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_mcp_faults_end_typed_in_the_cell_and_the_run_loses_nothing(
        model_server: ModelServer, gateway_server: GatewayServer, proxies: dict[str, McpFaultProxy],
        seed: int) -> None:
    rng = random.Random(seed)
    style = "sse" if seed % 2 == 0 else "json"
    proxy = proxies[style]

    # Discovery: about a third of the runs meet a fault while connecting.
    if rng.random() < 0.35:
        proxy.inject(rng.choice(["initialize", "notifications/initialized", "tools/list"]),
                     {k: v for k, v in rng.choice(FAULTS)(rng).items() if k != "calls"})
    tools = await RunTools.open(settings(proxy, gateway_server), approve=None)
    discovery_struck = len(proxy.struck)
    try:
        names = {t.name for t in tools.sandbox_tools}
        assert "report" in names  # the gateway's tools are there whatever MCP did
        mcp_warnings = [w for w in tools.warnings if w["source"].startswith("mcp:")]
        connected = "weather" in names  # an MCP-only name (the gateway has an add too)
        if not connected:  # the fault cost the MCP tools of this run, typed and said
            assert discovery_struck == 1 and [w["type"] for w in mcp_warnings] in ([t] for t in TYPED), mcp_warnings
            tally("MCP discovery faults: typed warning, the run kept its other tools")
        else:
            assert mcp_warnings == []

        # The steps' calls and their faults, queued on tools/call in the order the cells make them.
        plans: list[list[tuple[str, str, Any, dict[str, Any] | None]]] = []
        for step in range(TOOL_STEPS):
            if not connected:
                plans.append([])
                continue
            fault = FAULTS[(seed // 2 * TOOL_STEPS + step) % len(FAULTS)](rng)
            calls = []
            for n in range(fault.pop("calls", 1)):
                call, want = rng.choice(FAULTED_CALLS)
                calls.append((f"faulted{n}", call, want, fault))
            call, want = rng.choice(CLEAN_CALLS + (SSE_ONLY_CALLS if style == "sse" else []))
            calls.append(("clean", call, want, None))
            proxy.inject("tools/call", *(f for _, _, _, f in calls))
            plans.append(calls)
        replies = [code(cell([(label, call) for label, call, _, _ in plan] + [("other", "report(topic='t')")]),
                        thought=f"Step {i + 1}.") for i, plan in enumerate(plans)]
        model_server.enqueue(*replies, code("final_answer('done')"))
        record, events = await run_agent(model_server, tools, f"mcp-fault-{seed}")
    finally:
        await tools.aclose()

    injected = len(proxy.struck)
    tally("faults injected", injected)
    assert proxy.pending() == 0  # every queued fault struck a request the client really made

    # The run finished: MCP faults are observations, not the end of a run.
    assert record.status == "finished" and record.stop_reason == StopReason.FINAL_ANSWER, record.stop_reason
    assert record.final_answer == "done"
    lost = lost_steps(record, events)
    tally("steps lost", len(lost))
    assert lost == []
    assert RunRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()
    finished = [e for e in events if e["type"] == "StepFinished"]
    assert len(finished) == TOOL_STEPS + 1 and all(s.status == "done" for s in record.steps)
    tally("steps finished under faults", len(finished))

    for step, plan in zip(record.steps, plans, strict=False):
        assert step.error is None, step.error  # nothing escaped the cell's `except ToolError`
        outcomes = {o[0]: o for o in map(json.loads, step.stdout.splitlines())}
        assert outcomes["other"][1] == "ok"  # the gateway's tool, next to a faulty MCP server
        records = [c for c in step.tool_calls if c["tool"] != "report"]
        assert len(records) == len(plan)
        for (label, _, want, fault), call_record in zip(plan, records, strict=True):
            _, result, value, seconds = outcomes[label]
            assert seconds < TIMEOUT_S + HANG_SLACK_S, (label, fault, seconds)  # no hang past the timeout
            if result == "ok":
                assert value == want, (fault, value)
                assert call_record["ok"] is True
                tally("MCP calls answered despite the fault (resumed, re-initialized, slow)" if fault
                      else "MCP calls answered after faults (session recovered)")
            else:
                # A clean call must work: the session recovered. (The step's faults are in the message: one CI run
                # saw a clean call after a fault end "without a response"; not reproduced since.)
                assert fault is not None, (label, result, value, [f for _, _, _, f in plan])
                assert result in TYPED, (fault, result, value)
                # The host side names the same class: no untyped exception was wrapped on the way.
                assert call_record["error"].startswith(f"{result}: "), call_record
                tally("MCP calls failed typed (ToolError subclass in the cell)")
    tally("faults survived (run finished)", injected)


async def test_a_server_that_stops_answering_costs_one_timeout_then_recovers(
        proxies: dict[str, McpFaultProxy]) -> None:
    proxy = proxies["sse"]
    async with McpServer(proxy.url, timeout_s=TIMEOUT_S) as server:
        specs = {s.name: s for s in await server.tools()}
        proxy.stop_answering()
        with pytest.raises(ToolTimeout) as caught:
            await specs["add"].call({"a": 1, "b": 2})
        assert caught.value.tool == "add" and caught.value.timeout_s == TIMEOUT_S
        # The cancellation went out, and the silent server still holds it: the call did not wait on it (it used to,
        # holding the call for a second timeout). The method names are what the proxy read before holding.
        assert await eventually(lambda: "notifications/cancelled" in proxy.open_holds)
        proxy.resume()
        assert await specs["add"].call({"a": 1, "b": 2}) == {"result": 3}


@pytest.mark.parametrize("style", ["sse", "json"])
async def test_every_malformed_answer_is_a_typed_error_never_a_wrong_value(proxies: dict[str, McpFaultProxy],
                                                                          style: str) -> None:
    """Each malformed SSE variant and body on tools/call: a ToolServerError, or (CRLF framing is legal SSE) the
    right value; never a value made up from a broken answer (`content: 7` used to come back as an empty text)."""
    proxy = proxies[style]
    faults = [{"kind": "bad_sse", "variant": n} for n in range(len(BAD_SSE_VARIANTS))] + [
        {"kind": "bad_json", "style": "sse"}, {"kind": "bad_json", "style": "json"}, {"kind": "wrong_id"}]
    async with McpServer(proxy.url, timeout_s=TIMEOUT_S) as server:
        specs = {s.name: s for s in await server.tools()}
        for fault in faults:
            proxy.inject("tools/call", fault, None)
            try:
                assert await specs["add"].call({"a": 2, "b": 3}) == {"result": 5}, fault
            except ToolError as err:
                assert type(err).__name__ in TYPED, (fault, err)
            assert await specs["add"].call({"a": 1, "b": 1}) == {"result": 2}


@pytest.mark.parametrize("method", ["initialize", "notifications/initialized", "tools/list"])
@pytest.mark.parametrize("style", ["sse", "json"])
async def test_every_fault_while_connecting_is_typed_or_survived_and_the_other_tools_stay(
        gateway_server: GatewayServer, proxies: dict[str, McpFaultProxy], style: str, method: str) -> None:
    """The run's connect path (RunTools.open) meeting each fault kind on one discovery request."""
    proxy = proxies[style]
    for kind in FAULT_KINDS:
        proxy.reset()
        proxy.inject(method, {"kind": kind})
        # Plain-HTTP sockets without a TLS context: building one costs ~0.1 s a client here, 96 times over.
        tools = await RunTools.open(settings(proxy, gateway_server), approve=None,
                                    transport=httpx.AsyncHTTPTransport(verify=False))
        try:
            names = {t.name for t in tools.sandbox_tools}
            warnings = [(w["source"], w["type"]) for w in tools.warnings]
            assert "report" in names, kind
            if "weather" in names:  # survived: resumed, re-initialized, slow but in time, or a body we never read
                assert warnings == [] and {"add", "chatty", "lookup_item"} <= names, (kind, warnings)
            else:
                assert len(warnings) == 1 and warnings[0][0] == "mcp:flaky" and warnings[0][1] in TYPED, (
                    kind, tools.warnings)
        finally:
            await tools.aclose()
        assert proxy.struck == [(method, kind)]
        tally("MCP connect faults swept (typed warning or survived, other tools kept)")


async def test_connecting_to_a_silent_server_is_a_typed_warning_and_the_run_keeps_its_other_tools(
        model_server: ModelServer, gateway_server: GatewayServer, proxies: dict[str, McpFaultProxy]) -> None:
    proxy = proxies["json"]
    proxy.stop_answering()
    tools = await RunTools.open(settings(proxy, gateway_server), approve=None)
    try:
        assert [(w["source"], w["type"]) for w in tools.warnings] == [("mcp:flaky", "ToolTimeout")]
        assert "weather" not in {t.name for t in tools.sandbox_tools}  # MCP's tools never came
        model_server.enqueue(code(cell([("other", "report(topic='t')"), ("sum", "add(a=1, b=2)")])),
                             code("final_answer('done')"))
        record, events = await run_agent(model_server, tools, "mcp-silent")
    finally:
        await tools.aclose()
    assert record.status == "finished" and record.final_answer == "done" and lost_steps(record, events) == []
    outcomes = {o[0]: o for o in map(json.loads, record.steps[0].stdout.splitlines())}
    assert outcomes["other"][1] == "ok" and outcomes["sum"][1:3] == ["ok", 3]  # the gateway's add
    tally("faults injected")
    tally("faults survived (run finished)")


async def eventually(predicate: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return bool(predicate())
