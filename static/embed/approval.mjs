/**
 * "May the host page's tool run?": the widget asks its own user, in its own frame, for a tool whose policy is
 * "ask". The host page cannot answer for the user: the dialog lives on the widget's origin.
 *
 * @example  const approved = await askApproval({ tool: "highlight_row", arguments: {tea: "Assam"}, origin });
 */

/** @returns {Promise<boolean>} true only when the user pressed Allow */
export function askApproval({ tool, arguments: args, origin }) {
  const dialog = document.createElement("dialog");
  dialog.className = "approval";
  dialog.setAttribute("aria-labelledby", "approval-title");
  const title = document.createElement("h2");
  title.id = "approval-title";
  title.textContent = "Allow this action on the page?";
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
    dialog.showModal();
  });
}

/** Close every open approval as denied (the run that asked has ended). */
export function dismissApprovals(root = document) {
  for (const dialog of root.querySelectorAll("dialog.approval[open]")) dialog.close("deny");
}
