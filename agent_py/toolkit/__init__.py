"""Host-side tool sources, all producing ToolSpec (spec.py): MCP servers over Streamable HTTP (mcp.py), plain HTTP
tool gateways (gateway.py) and web research tools (web.py), plus the policy gate every call goes through
(policy.py: allow / ask / deny and a per-tool rate cap).

    gate = PolicyGate(approve=ask_user)
    async with McpServer(url, token) as mcp, Gateway(base) as gw, WebTools(allowed_origins=[...]) as web:
        specs = [gate.guard(s) for s in [*await mcp.tools(), *await gw.tools(), *web.tools()]]

Everything runs in Pyodide (over the browser's fetch) and in CPython (over sockets).
"""

from .gateway import Gateway
from .mcp import PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, McpServer
from .policy import Approve, PolicyGate, TokenBucket, check_json_result
from .spec import (
    Policy,
    PyParam,
    RateLimit,
    ToolDefinitionWarning,
    ToolSpec,
    arguments_from_python,
    python_identifier,
    python_name,
    python_names,
    python_parameters,
    python_signature,
    signature_line,
    validate_arguments,
)
from .web import Allowlist, WebTools

__all__ = [
    "PROTOCOL_VERSION",
    "SUPPORTED_PROTOCOL_VERSIONS",
    "Allowlist",
    "Approve",
    "Gateway",
    "McpServer",
    "Policy",
    "PolicyGate",
    "PyParam",
    "RateLimit",
    "TokenBucket",
    "ToolDefinitionWarning",
    "ToolSpec",
    "WebTools",
    "arguments_from_python",
    "check_json_result",
    "python_identifier",
    "python_name",
    "python_names",
    "python_parameters",
    "python_signature",
    "signature_line",
    "validate_arguments",
]
