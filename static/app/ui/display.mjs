/**
 * What the model shows with show_table / show_chart: tables as tables, charts with uPlot (canvas, 45 KB).
 * All values are set as text or numbers, never as HTML.
 */
import uPlot from "../../vendor/libs/uPlot.esm.js";

const COLORS = ["#2f6fed", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#1098ad"];

/** @param {{title?: string, columns: string[], rows: any[][]}} spec @returns {HTMLElement} */
export function renderTable({ title = "", columns = [], rows = [] }) {
  const wrap = document.createElement("figure");
  wrap.className = "display display-table";
  const table = document.createElement("table");
  if (columns.length) {
    const head = table.createTHead().insertRow();
    for (const column of columns) head.appendChild(document.createElement("th")).textContent = String(column);
  }
  const body = table.createTBody();
  for (const row of rows.slice(0, 500)) {
    const tr = body.insertRow();
    for (const cell of Array.isArray(row) ? row : [row]) {
      tr.insertCell().textContent = typeof cell === "object" ? JSON.stringify(cell) : String(cell);
    }
  }
  if (title) wrap.appendChild(document.createElement("figcaption")).textContent = title;
  wrap.appendChild(table);
  return wrap;
}

/** The usual gap between x values (1 for indexes), so a bar chart can pad its ends by half a bar. */
function slot(xs) {
  return xs.length > 1 ? Math.abs(xs[xs.length - 1] - xs[0]) / (xs.length - 1) || 1 : 1;
}

/** @param {{title?: string, chart?: string, x?: any[], series: Record<string, number[]>}} spec */
export function renderChart({ title = "", chart = "line", x = null, series }) {
  const wrap = document.createElement("figure");
  wrap.className = "display display-chart";
  const names = Object.keys(series ?? {});
  const length = Math.max(0, ...names.map((n) => (Array.isArray(series[n]) ? series[n].length : 0)));
  const numericX = Array.isArray(x) && x.every((v) => typeof v === "number");
  const xs = numericX ? x.slice(0, length) : Array.from({ length }, (_, i) => i);
  const data = [xs, ...names.map((n) => Array.from({ length }, (_, i) => Number(series[n][i] ?? NaN)))];
  const bars = chart === "bar" ? uPlot.paths.bars({ size: [0.8, 64] }) : undefined;
  const options = {
    title,
    width: 560,
    height: 260,
    // Bars grow from zero and keep half a slot on each side (else the first and last are cut in half); x values
    // are shown as given (years must not read "2,026").
    scales: {
      x: chart === "bar" ? { time: false, range: (u, min, max) => [min - 0.5 * slot(xs), max + 0.5 * slot(xs)] } : { time: false },
      y: chart === "bar" ? { range: (u, min, max) => [Math.min(0, min), max] } : {},
    },
    legend: { live: false }, // the hover read-out ("Value: --") means nothing on a phone or in a screenshot
    axes: [{ values: (u, ticks) => ticks.map((t) => (numericX || !Array.isArray(x) ? String(t) : String(x[t] ?? ""))) }, {}],
    series: [{}, ...names.map((name, i) => ({
      label: name,
      stroke: COLORS[i % COLORS.length],
      fill: chart === "bar" ? `${COLORS[i % COLORS.length]}99` : undefined,
      paths: bars,
      points: { show: chart === "scatter" },
      width: chart === "scatter" ? 0 : 2,
    }))],
  };
  const chartElement = document.createElement("div");
  wrap.appendChild(chartElement);
  // uPlot draws at a fixed size: build it once the figure is in the card, then follow the card's width (a phone is
  // narrower than 560 px, and turning it changes the width).
  const fit = () => Math.max(240, Math.min(720, Math.floor(wrap.getBoundingClientRect().width || 560)));
  queueMicrotask(() => {
    const plot = new uPlot({ ...options, width: fit() }, data, chartElement);
    new ResizeObserver(() => {
      if (Math.abs(plot.width - fit()) > 4) plot.setSize({ width: fit(), height: options.height });
    }).observe(wrap);
  });
  wrap.setAttribute("role", "img");
  wrap.setAttribute("aria-label", `${chart} chart${title ? `: ${title}` : ""} (${names.join(", ")})`);
  return wrap;
}
