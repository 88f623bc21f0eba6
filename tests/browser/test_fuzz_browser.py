"""Fuzzing the page's JS boundaries with hypothesis-made inputs, a few hundred per page.evaluate: the widget channel
validators (static/embed/protocol.mjs, SECURITY-CASES 10) and the history importer (static/app/ui/run_record.mjs,
25). Each input either passes or is refused with the module's own typed error; nothing else may be thrown."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tally import tally

pytestmark = pytest.mark.browser
HOST_TYPES = ["register-tools", "start", "stop", "tool-result", "set-options"]
WIDGET_TYPES = ["ready", "started", "event", "tool-call", "error"]
# Names that live on Object.prototype: a lookup table keyed by message type must not find them.
PROTO = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"]
FIELDS = ["type", "tools", "task", "requestId", "runId", "callId", "ok", "error", "value", "options", "version",
          "event", "name", "arguments", "message", "policy", "parameters", "ratePerMinute", "returns", "description"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10) | st.sampled_from(PROTO),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=12)
tool_specs = st.fixed_dictionaries({"name": st.sampled_from(["lookup", "add", "final_answer", "1x", "", "a" * 70])
                                    | json_values},
                                   optional={"description": json_values, "parameters": json_values,
                                             "policy": st.sampled_from(["allow", "ask", "deny", "maybe"]),
                                             "ratePerMinute": json_values, "returns": json_values})
messages = st.one_of(
    json_values,
    st.fixed_dictionaries({"type": st.sampled_from(HOST_TYPES + WIDGET_TYPES + PROTO) | json_values},
                          optional={f: json_values for f in FIELDS if f != "type"}),
    st.fixed_dictionaries({"type": st.just("register-tools"), "tools": st.lists(tool_specs, max_size=4)}),
)
BATCH = 300


def generate(strategy: st.SearchStrategy, count: int) -> list:
    """`count` inputs drawn by hypothesis (its edge-case-seeking generator, without a page call per example: a
    browser round trip per input would cost minutes). Lists of hundreds of nested values overrun hypothesis's
    per-example budget, so each example is one input and the page checks them in batches."""
    drawn: list = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value) -> None:  # noqa: ANN001
        drawn.append(value)

    collect()
    return drawn


def batches(values: list) -> list[list]:
    return [values[i:i + BATCH] for i in range(0, len(values), BATCH)]

CHECK = """async (batch) => {
  const p = await import('/static/embed/protocol.mjs');
  const out = [];
  for (const raw of batch) {
    const message = JSON.parse(raw);
    for (const [side, check] of [['host', p.checkHostMessage], ['widget', p.checkWidgetMessage]]) {
      try { check(message); out.push({side, ok: true, type: message.type}); }
      catch (err) { out.push({side, ok: false, name: err.name, isProtocol: err instanceof p.ProtocolError}); }
    }
  }
  return out;
}"""
IMPORT = """async (texts) => {
  const { importRun } = await import('/static/app/ui/run_record.mjs');
  return texts.map((text) => {
    try {
      const r = importRun(text);
      return {ok: typeof r.id === 'string' && typeof r.task === 'string' && Array.isArray(r.events)
                  && Array.isArray(r.steps) && r.events.every((e) => typeof e.type === 'string')};
    } catch (err) { return {ok: null, name: err.constructor.name, message: String(err.message)}; }
  });
}"""


@pytest.fixture
def app_page(page, app_url):  # noqa: ANN001, ANN201
    page.goto(app_url + "/static/embed/embed.css")  # any file of the origin: the modules import from there
    return page


def test_widget_protocol_validators_refuse_or_pass_typed(app_page) -> None:  # noqa: ANN001
    for batch in batches(generate(messages, 1800)):
        _check_batch(app_page, batch)


def _check_batch(app_page, batch: list) -> None:  # noqa: ANN001
    results = app_page.evaluate(CHECK, [json.dumps(m) for m in batch])
    tally("fuzz inputs: widget protocol messages (x2 directions)", len(batch))
    for message, (host, widget) in zip(batch, zip(results[::2], results[1::2], strict=True), strict=True):
        for result, known in ((host, HOST_TYPES), (widget, WIDGET_TYPES)):
            if result["ok"]:
                assert isinstance(message, dict) and message["type"] in known, (message, result)
            else:
                assert result["isProtocol"] and result["name"] == "ProtocolError", (message, result)


# Mostly well-formed at the top, so the generator gets past the first checks and reaches the deeper ones.
runs = st.fixed_dictionaries({"id": st.text(max_size=5) | json_values, "task": st.text(max_size=5) | json_values},
                             optional={"events": st.lists(st.fixed_dictionaries({"type": st.text(max_size=5)}),
                                                          max_size=3) | json_values,
                                       "steps": json_values, "status": json_values, "apiKey": json_values})
exports = st.one_of(
    st.text(max_size=30),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"format": st.sampled_from(["codeact-run", "other"]) | json_values,
                           "run": runs | json_values}).map(json.dumps),
)


def test_history_import_takes_a_run_or_says_what_is_wrong(app_page) -> None:  # noqa: ANN001
    for texts in batches(generate(exports, 1800)):
        results = app_page.evaluate(IMPORT, texts)
        tally("fuzz inputs: history imports", len(texts))
        for text, result in zip(texts, results, strict=True):
            if result["ok"] is None:
                assert result["name"] == "Error" and result["message"], (text, result)
            else:
                assert result["ok"] is True, (text, result)


# --- forged messages from inside the sandbox worker (SECURITY-CASES 10) -----------------------------------------

WORKER_TYPES = ["result", "tool-call", "tool-result", "stdout", "ready", "configured", "fs", "chunk", "final"]
forged = st.fixed_dictionaries(
    {"type": st.sampled_from(WORKER_TYPES + PROTO) | json_values},
    optional={"runId": st.sampled_from([f"r{i}" for i in range(1, 12)]) | json_values,
              "callId": st.sampled_from(["c1", "c2"]) | json_values, "name": st.sampled_from(["add", "nope"])
              | json_values, "argsJson": st.sampled_from(['{"a": 1, "b": 2}', "{", "[]"]) | json_values,
              "result": json_values, "reply": json_values, "session": json_values})
FORGE_SETUP = """
import json
from agent_py.sandbox import BrowserSandbox
from agent_py.sandbox_tools import SandboxTool
async def add(args):
    return args["a"] + args["b"]
schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
fuzzbox = await BrowserSandbox.create("fuzz", tools=[SandboxTool("add", "Add.", add, schema)], timeout_ms=5000)
(await fuzzbox.run("x = add(1, 2)\\nimport js, json\\ndef post(m):\\n    js.postMessage(js.JSON.parse(json.dumps(m)))"))
"""
FORGE_BATCH = """
first = await fuzzbox.run("for m in json.loads(%r):\\n    post(m)\\nprint('posted')" % BATCH)
after = await fuzzbox.run("print('after', x, add(3, 4))")
{"first": first, "after": after}
"""


def test_forged_worker_messages_leave_the_sandbox_working(ready_page) -> None:  # noqa: ANN001
    page = ready_page
    setup = page.evaluate("(c) => window.codeact.agent.execPython(c)", FORGE_SETUP)
    assert setup.get("error") is None, setup
    for batch in batches(generate(forged, 900)):
        code = f"BATCH = {json.dumps(batch)!r}\n" + FORGE_BATCH
        out = page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
        tally("fuzz inputs: forged sandbox worker messages", len(batch))
        first = out["first"]
        # Posting forged messages either changes nothing or fails this cell only, typed; the session comes back.
        assert first.get("error") is None or first["error"]["type"] in ("SandboxCrashed", "ToolError",
                                                                         "ToolArgumentError", "UnknownTool"), first
        assert first["stdout"] == "posted\n" or first.get("error"), first  # the batch really went out
        assert out["after"]["stdout"] == "after 3 7\n", out
        print(f"forged batch of {len(batch)}: {first.get('error', {}) and first['error']['type'] or 'no effect'}")
