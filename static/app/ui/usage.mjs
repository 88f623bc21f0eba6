/**
 * Tokens and money in words. Prices are the user's (Settings: per million prompt / completion tokens): none ship
 * with the page because they change monthly and differ by provider (see agent_py/models/pricing.py).
 *
 * @example
 *   costOf({prompt_tokens: 1200, completion_tokens: 300}, {promptPerM: 0.15, completionPerM: 0.6});  // 0.00036
 *   describeUsage({total_tokens: 1500, estimated: true}, 0.00036);   // "~1,500 tokens · $0.0004"
 */

/**
 * @param {{prompt_tokens?: number, completion_tokens?: number} | null | undefined} usage
 * @param {{promptPerM?: number | null, completionPerM?: number | null} | null | undefined} prices
 * @returns {number | null} dollars, or null when no price is set
 */
export function costOf(usage, prices) {
  const prompt = Number(prices?.promptPerM);
  const completion = Number(prices?.completionPerM);
  const havePrompt = prices?.promptPerM != null && prices.promptPerM !== "" && Number.isFinite(prompt);
  const haveCompletion = prices?.completionPerM != null && prices.completionPerM !== "" && Number.isFinite(completion);
  if (!usage || (!havePrompt && !haveCompletion)) return null;
  return ((havePrompt ? prompt : 0) * (usage.prompt_tokens ?? 0)
    + (haveCompletion ? completion : 0) * (usage.completion_tokens ?? 0)) / 1e6;
}

/** @param {number} dollars @returns {string} "$0.0042", "$1.27" */
export function formatCost(dollars) {
  if (dollars === 0) return "$0";
  return dollars < 0.01 ? `$${dollars.toPrecision(2)}` : `$${dollars.toFixed(2)}`;
}

/**
 * @param {{total_tokens?: number, prompt_tokens?: number, completion_tokens?: number, estimated?: boolean} | null} usage
 * @param {number | null} [cost]
 * @returns {string} "" when there is nothing to say
 */
export function describeUsage(usage, cost = null) {
  const total = usage?.total_tokens ?? (usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0);
  if (!total) return "";
  // Estimated counts come from servers that do not report usage: say so with "~".
  const tokens = `${usage.estimated ? "~" : ""}${total.toLocaleString("en-US")} tokens`;
  return cost == null ? tokens : `${tokens} · ${formatCost(cost)}`;
}
