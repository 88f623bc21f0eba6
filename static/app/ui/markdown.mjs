/**
 * Markdown from the model (final answers, thoughts) -> sanitized DOM. marked renders, DOMPurify cleans, always in
 * that order. Beyond DOMPurify's defaults (no script, no event handlers, no javascript: URLs), images may only
 * come from data: or blob: URLs (a remote image is a request leaving the page: SECURITY-CASES 28) and links open
 * in a new tab without a referrer.
 *
 * @example  element.replaceChildren(renderMarkdown("**42**, see [docs](https://example.org)"));
 */
import { marked } from "../../vendor/libs/marked.esm.js";
import DOMPurify from "../../vendor/libs/purify.es.mjs";

const SAFE_IMAGE = /^(data:image\/(png|gif|jpeg|webp);|blob:)/i;

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "IMG" && !SAFE_IMAGE.test(node.getAttribute("src") ?? "")) {
    node.removeAttribute("src");
    node.removeAttribute("srcset");
    node.setAttribute("alt", `[image not loaded: ${node.getAttribute("alt") || "remote image"}]`);
  }
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const CONFIG = {
  // HTML only: SVG and MathML are off (an SVG <image href> or <use> fetches a remote URL that the img hook above
  // does not see; answers do not need inline SVG).
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "iframe", "object", "embed", "link", "meta", "base", "video", "audio", "source"],
  FORBID_ATTR: ["style", "srcset", "background", "poster", "action", "formaction", "xlink:href", "ping"],
  RETURN_DOM_FRAGMENT: true,
};

/** @param {string} text @returns {DocumentFragment} */
export function renderMarkdown(text) {
  const html = marked.parse(String(text ?? ""), { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, CONFIG);
}
