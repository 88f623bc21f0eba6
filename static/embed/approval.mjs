/**
 * "May this tool run?": the page asks its own user for a call whose policy is "ask". In embed mode the host page's
 * tools are asked about in the widget's frame (the host cannot answer for the user); on the full page the run's
 * remote tools (MCP, gateways, web research) use the same dialog, with `title` and `origin` naming the source.
 *
 * @example  const approved = await askApproval({ tool: "highlight_row", arguments: {tea: "Assam"}, origin });
 * @example  askApproval({ tool, arguments, origin: "mcp:docs", title: "Allow this tool call?", signal });
 */

/**
 * @param {{tool: string, arguments: object, origin: string, title?: string, signal?: AbortSignal}} request
 *   `signal` closes the dialog as denied (the call stopped waiting: a timeout or a stopped run)
 * @returns {Promise<boolean>} true only when the user pressed Allow
 */
export function askApproval({ tool, arguments: args, origin, title: heading = "Allow this action on the page?", signal }) {
  const dialog = document.createElement("dialog");
  dialog.className = "approval";
  dialog.setAttribute("aria-labelledby", "approval-title");
  const title = document.createElement("h2");
  title.id = "approval-title";
  title.textContent = heading;
  const what = document.createElement("p");
  what.append("The agent wants to call ");
  const name = document.createElement("code");
  name.textContent = tool;
  what.append(name, ` on ${origin}, with:`);
  const detail = document.createElement("pre");
  detail.textContent = JSON.stringify(args, null, 2);
  const form = document.createElement("form");
  form.method = "dialog";
  form.className = "actions";
  const deny = Object.assign(document.createElement("button"), { value: "deny", textContent: "Deny", className: "secondary" });
  const allow = Object.assign(document.createElement("button"), { value: "allow", textContent: "Allow" });
  form.append(deny, allow);
  dialog.append(title, what, detail, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    // Esc or Deny -> false; only the Allow button says yes.
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "allow");
      dialog.remove();
    }, { once: true });
    if (signal?.aborted) return dialog.close("deny");
    signal?.addEventListener("abort", () => dialog.close("deny"), { once: true });
    dialog.showModal();
  });
}

/** Close every open approval as denied (the run that asked has ended). */
export function dismissApprovals(root = document) {
  for (const dialog of root.querySelectorAll("dialog.approval[open]")) dialog.close("deny");
}
