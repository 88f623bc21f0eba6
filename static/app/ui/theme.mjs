/**
 * Light and dark themes: the page follows the system (prefers-color-scheme) until the user picks one with the
 * toggle; the pick is remembered in localStorage. highlight.js has one stylesheet per theme, switched by media.
 *
 * @example  setupTheme({ toggle: button, lightSheet: linkLight, darkSheet: linkDark });
 */

import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)
const THEME_KEY = scoped("codeact.theme");

function storedTheme() {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch {
    return null; // storage refused: follow the system
  }
}

/** @returns {"dark" | "light"} the theme in effect now */
export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "dark" || chosen === "light") return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/**
 * @param {{toggle: HTMLButtonElement, lightSheet: HTMLLinkElement, darkSheet: HTMLLinkElement}} elements
 * @returns {{set: (theme: "dark" | "light") => void}}
 */
export function setupTheme({ toggle, lightSheet, darkSheet }) {
  function apply(theme) {
    if (theme) document.documentElement.dataset.theme = theme;
    const dark = currentTheme() === "dark";
    lightSheet.media = dark ? "not all" : "all";
    darkSheet.media = dark ? "all" : "not all";
    toggle.setAttribute("aria-pressed", String(dark));
    toggle.title = dark ? "Dark theme (switch to light)" : "Light theme (switch to dark)";
  }
  function set(theme) {
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch {
      /* private mode: the theme lasts for this page */
    }
    apply(theme);
  }
  apply(storedTheme());
  // Following the system: repaint code colours when it switches while the page is open.
  matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", () => apply(storedTheme()));
  toggle.addEventListener("click", () => set(currentTheme() === "dark" ? "light" : "dark"));
  return { set };
}
