/**
 * Per-tool policy for calls that leave the agent: deny, ask the user, or allow; and a rate cap per tool.
 *
 * @example
 *   const gate = new PolicyGate({ approve: async ({tool, arguments, origin}) => confirm(`${tool}?`) });
 *   const verdict = await gate.check({name: "delete_row", policy: "ask", ratePerMinute: 5}, {row: 3}, origin);
 *   if (!verdict.ok) throw new Error(verdict.error);   // a ToolDenied reason
 */

export class PolicyGate {
  #approve;
  #now;
  #recent = new Map(); // tool name -> timestamps (ms) of allowed calls in the last minute

  /** @param {{approve: (call: {tool: string, arguments: object, origin: string}) => Promise<boolean>, now?: () => number}} options */
  constructor({ approve, now = () => Date.now() }) {
    this.#approve = approve;
    this.#now = now;
  }

  /**
   * @param {{name: string, policy: "allow"|"ask"|"deny", ratePerMinute: number|null}} spec
   * @returns {Promise<{ok: true} | {ok: false, error: string}>}
   */
  async check(spec, args, origin = "") {
    if (spec.policy === "deny") return { ok: false, error: `${spec.name} is denied by its policy` };
    const now = this.#now();
    const recent = (this.#recent.get(spec.name) ?? []).filter((t) => now - t < 60_000);
    if (spec.ratePerMinute && recent.length >= spec.ratePerMinute) {
      return { ok: false, error: `${spec.name} is limited to ${spec.ratePerMinute} calls a minute` };
    }
    if (spec.policy === "ask") {
      let approved = false;
      try {
        approved = await this.#approve({ tool: spec.name, arguments: args, origin });
      } catch {
        approved = false;
      }
      if (!approved) return { ok: false, error: `the user did not approve ${spec.name}` };
    }
    recent.push(now); // only calls that go through count against the cap
    this.#recent.set(spec.name, recent);
    return { ok: true };
  }
}
