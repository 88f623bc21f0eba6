/**
 * The Tools section of the settings dialog: MCP servers (URL, name, bearer token, policy), HTTP tool gateways (URL,
 * name, headers, policy), web research (fetch_url + origin allowlist + CORS proxy, web_search's SearXNG endpoint),
 * per-tool policy lines and the call timeout. It produces the `tools` object of the run settings
 * (agent_py/tool_settings.py documents the shape and the defaults); secrets are split off for ui/tool_secrets.mjs.
 *
 * @example
 *   const tools = createToolSettings(dialog);
 *   tools.fill(stored.tools, readToolSecrets());
 *   const { tools: saved, secrets, errors } = tools.read();   // saved has no token or header values
 *   withToolSecrets(saved, secrets);                          // what a run gets
 */

const POLICIES = ["allow", "ask", "deny"];

/**
 * "name: allow|ask|deny [N/min]" lines -> {policies, errors}. A line may give only a cap ("fetch_url: 30/min").
 * @param {string} text
 */
export function parsePolicies(text) {
  const policies = {};
  const errors = [];
  for (const [index, raw] of String(text ?? "").split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^([^:\s]+)\s*:\s*(allow|ask|deny)?\s*(?:(\d+)\s*\/\s*min)?$/i.exec(line);
    if (!match || (!match[2] && !match[3]) || match[3] === "0") {
      errors.push(`line ${index + 1}: "${line}" is not "name: allow|ask|deny [N/min]"`);
      continue;
    }
    const rule = {};
    if (match[2]) rule.policy = match[2].toLowerCase();
    if (match[3]) rule.ratePerMinute = Number(match[3]);
    policies[match[1]] = rule;
  }
  return { policies, errors };
}

/** The inverse of parsePolicies, for filling the textarea. */
export function formatPolicies(policies = {}) {
  return Object.entries(policies).map(([name, rule]) => {
    const { policy, ratePerMinute } = typeof rule === "string" ? { policy: rule } : rule;
    return `${name}: ${[policy, ratePerMinute ? `${ratePerMinute}/min` : ""].filter(Boolean).join(" ")}`;
  }).join("\n");
}

/** "Name: value" lines -> {headers, errors}. */
export function parseHeaders(text) {
  const headers = {};
  const errors = [];
  for (const raw of String(text ?? "").split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    if (colon < 1 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) errors.push(`"${line.split(":")[0]}" is not a header name`);
    else headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, errors };
}

/** The run's `tools` with the secrets put back in (for the worker only). */
export function withToolSecrets(tools = {}, secrets = {}) {
  return {
    ...tools,
    mcp: (tools.mcp ?? []).map((s) => ({ ...s, ...(secrets[`mcp:${s.url}`]?.token ? { token: secrets[`mcp:${s.url}`].token } : {}) })),
    gateways: (tools.gateways ?? []).map((g) => ({ ...g, headers: { ...(secrets[`gateway:${g.url}`]?.headers ?? {}) } })),
  };
}

function policySelect(value) {
  const select = document.createElement("select");
  select.dataset.field = "policy";
  select.setAttribute("aria-label", "Policy");
  for (const name of POLICIES) select.add(new Option(name, name));
  select.value = POLICIES.includes(value) ? value : "ask";
  return select;
}

function input(field, label, value = "", type = "text", placeholder = "") {
  const element = Object.assign(document.createElement("input"), { type, value, placeholder, spellcheck: false });
  element.dataset.field = field;
  element.setAttribute("aria-label", label);
  if (type === "password") element.autocomplete = "off";
  return element;
}

/** @param {HTMLDialogElement} dialog the settings dialog holding [data-tools-settings] */
export function createToolSettings(dialog) {
  const section = dialog.querySelector("[data-tools-settings]");
  const form = dialog.querySelector("form");
  const field = (name) => form.elements.namedItem(name);
  const mcpList = section.querySelector("[data-mcp-list]");
  const gatewayList = section.querySelector("[data-gateway-list]");
  const status = section.querySelector("[data-tools-status]");

  function row(list, kind, parts) {
    const item = document.createElement("li");
    item.className = "tool-source";
    item.dataset.kind = kind;
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Remove", className: "secondary" });
    remove.addEventListener("click", () => item.remove());
    item.append(...parts, remove);
    list.append(item);
    return item;
  }

  function addMcp(source = {}, secret = {}) {
    return row(mcpList, "mcp", [input("url", "MCP server URL", source.url ?? "", "url", "https://…/mcp"),
      input("name", "Name", source.name ?? "", "text", "name (optional)"),
      input("token", "Bearer token", secret.token ?? "", "password", "bearer token (optional)"),
      policySelect(source.policy ?? "ask")]);
  }

  function addGateway(source = {}, secret = {}) {
    const headers = document.createElement("textarea");
    headers.dataset.field = "headers";
    headers.rows = 2;
    headers.spellcheck = false;
    headers.placeholder = "Authorization: Bearer …";
    headers.setAttribute("aria-label", "Headers");
    headers.value = Object.entries(secret.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n");
    return row(gatewayList, "gateway", [input("url", "Gateway URL", source.url ?? "", "url", "https://gateway.example"),
      input("name", "Name", source.name ?? "", "text", "name (optional)"), headers, policySelect(source.policy ?? "ask")]);
  }

  section.querySelector("[data-add-mcp]").addEventListener("click", () => addMcp().querySelector("input").focus());
  section.querySelector("[data-add-gateway]").addEventListener("click", () => addGateway().querySelector("input").focus());

  return {
    fill(tools = {}, secrets = {}, remembered = false) {
      mcpList.replaceChildren();
      gatewayList.replaceChildren();
      for (const source of tools.mcp ?? []) addMcp(source, secrets[`mcp:${source.url}`]);
      for (const source of tools.gateways ?? []) addGateway(source, secrets[`gateway:${source.url}`]);
      const web = tools.web ?? {};
      field("webFetchUrl").checked = Boolean(web.fetchUrl);
      field("webAllowedOrigins").value = (web.allowedOrigins ?? []).join(", ");
      field("webCorsProxy").value = web.corsProxy ?? "";
      field("webSearchUrl").value = web.searchUrl ?? "";
      field("webPolicy").value = web.policy ?? "allow";
      field("toolPolicies").value = formatPolicies(tools.policies);
      field("toolTimeoutS").value = tools.timeoutS ?? "";
      field("rememberToolSecrets").checked = remembered;
      status.textContent = "";
    },
    /** @returns {{tools: object, secrets: object, remember: boolean, errors: string[]}} tools without secrets */
    read() {
      const errors = [];
      const secrets = {};
      const value = (item, name) => item.querySelector(`[data-field="${name}"]`).value.trim();
      const mcp = [];
      for (const item of mcpList.children) {
        const url = value(item, "url");
        if (!url) continue;
        if (!/^https?:\/\//.test(url)) errors.push(`MCP server "${url}" is not an http(s) URL`);
        mcp.push({ url, name: value(item, "name"), policy: value(item, "policy") });
        if (value(item, "token")) secrets[`mcp:${url}`] = { token: value(item, "token") };
      }
      const gateways = [];
      for (const item of gatewayList.children) {
        const url = value(item, "url");
        if (!url) continue;
        if (!/^https?:\/\//.test(url)) errors.push(`gateway "${url}" is not an http(s) URL`);
        const { headers, errors: headerErrors } = parseHeaders(value(item, "headers"));
        errors.push(...headerErrors.map((e) => `gateway ${url}: ${e}`));
        gateways.push({ url, name: value(item, "name"), policy: value(item, "policy") });
        if (Object.keys(headers).length) secrets[`gateway:${url}`] = { headers };
      }
      const { policies, errors: policyErrors } = parsePolicies(field("toolPolicies").value);
      errors.push(...policyErrors);
      const proxy = field("webCorsProxy").value.trim();
      if (proxy && !proxy.includes("{url}")) errors.push("the CORS proxy must hold {url}, e.g. https://proxy.example/?url={url}");
      const timeout = field("toolTimeoutS").value === "" ? null : Number(field("toolTimeoutS").value);
      const tools = {
        mcp, gateways, policies,
        web: { fetchUrl: field("webFetchUrl").checked,
          allowedOrigins: field("webAllowedOrigins").value.split(/[\s,]+/).filter(Boolean),
          corsProxy: proxy, searchUrl: field("webSearchUrl").value.trim(), policy: field("webPolicy").value },
        ...(timeout ? { timeoutS: timeout } : {}),
      };
      return { tools, secrets, remember: field("rememberToolSecrets").checked, errors };
    },
    /** Show what is wrong (the dialog stays open); "" clears it. */
    showErrors(errors) {
      status.textContent = errors.length ? `Tools: ${errors.join("; ")}` : "";
      status.dataset.state = errors.length ? "error" : "";
      if (errors.length) section.open = true;
    },
  };
}
