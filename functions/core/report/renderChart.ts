import type { TopLevelSpec } from 'vega-lite';

/**
 * Vega and Vega-Lite load on the first chart, not at start-up: scoring imports the report module, but
 * only a run's finish (and the CLI's report paths) draws charts, so parts and other commands never load them.
 */
let libraries: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;

/** Chart text in the page's system font stack: no font is ever fetched. */
export const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** One look for every chart of the three reports. */
const CHART_CONFIG = {
  font: FONT_STACK,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', labelLimit: 320 },
  title: { fontSize: 13, anchor: 'start' },
  range: { category: ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777'] },
} as const;

/**
 * Renders a Vega-Lite spec to an SVG string on the server: Vega-Lite compiles it to Vega, and a
 * headless Vega view (no canvas, no DOM) writes the SVG. Vega escapes the text it draws, so data
 * from customer files cannot inject markup; nothing is loaded (the data is inline).
 * @example
 * const svg = await renderChart({ data: { values: [{ a: 'x', n: 3 }] }, mark: 'bar', encoding: { x: { field: 'a' }, y: { field: 'n', type: 'quantitative' } } });
 */
export async function renderChart(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await (libraries ??= Promise.all([import('vega'), import('vega-lite')]));
  const withConfig = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(withConfig).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
