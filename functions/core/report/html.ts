import { FONT_STACK, renderChart } from './renderChart.js';
import type { TopLevelSpec } from 'vega-lite';
import { formatMoney, INTEGER_FORMAT, ONE_DECIMAL_FORMAT } from './numberFormat.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * HTML-escapes text for element content and attribute values. Every text that comes from data
 * (column names, categories, segment actions, file names) goes through it: they come from customer files.
 * @example escapeHtml('<b>"x"</b>') // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const integer = INTEGER_FORMAT;
const oneDecimal = ONE_DECIMAL_FORMAT;

/** 45,211 */
export const formatInteger = (n: number): string => integer.format(n);
/** 1,234.5 */
export const formatDecimal = (n: number): string => oneDecimal.format(n);
/** 0.1234 → '12.3 %'; null → '–' */
export const formatPercent = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : `${oneDecimal.format(ratio * 100)} %`);
/** A metric with fixed digits; null or NaN → '–'. */
export const formatFixed = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
export { formatMoney };

/** A cell of {@link htmlTable}: text is escaped; `{ html }` is inserted as is (built here, never from data). */
export type Cell = string | number | { readonly html: string };

function cellHtml(cell: Cell): string {
  if (typeof cell === 'number') return formatInteger(cell);
  if (typeof cell === 'string') return escapeHtml(cell);
  return cell.html;
}

/** A table; columns after the first are right-aligned unless `alignLeft` names them. */
export function htmlTable(header: readonly string[], rows: readonly (readonly Cell[])[], options: { readonly alignLeft?: readonly number[]; readonly className?: string } = {}): string {
  const left = new Set([0, ...(options.alignLeft ?? [])]);
  const cls = (i: number) => (left.has(i) ? '' : ' class="num"');
  const head = header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${cellHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${options.className ? ` class="${options.className}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A chart in a figure with an escaped caption. */
export async function chartFigure(spec: TopLevelSpec, caption: string): Promise<string> {
  return `<figure class="chart">${await renderChart(spec)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** A section with an escaped `<h2>` title. */
export function section(title: string, body: string, id?: string): string {
  return `<section${id ? ` id="${escapeHtml(id)}"` : ''}><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

/** A paragraph of escaped text. */
export const paragraph = (text: string): string => `<p>${escapeHtml(text)}</p>`;

/** A highlighted notice (placeholder economics, drift alert): escaped text. */
export const banner = (text: string, kind: 'warn' | 'alert' | 'info' = 'warn'): string => `<div class="banner ${kind}" role="note">${escapeHtml(text)}</div>`;

const CSS = `
*{box-sizing:border-box}
body{font-family:${FONT_STACK};color:#1f2937;background:#f8fafc;margin:0;line-height:1.45}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h3{font-size:1rem;margin:18px 0 8px}
p.meta{color:#6b7280;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
.wide{overflow-x:auto}
figure.chart{margin:12px 20px 20px 0;display:inline-table;vertical-align:top}
figure.chart svg{max-width:100%;height:auto}
figcaption{display:table-caption;caption-side:bottom;color:#6b7280;font-size:.85rem;padding-top:4px}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.banner.warn{background:#fef3c7;border:1px solid #f59e0b;color:#78350f}
.banner.alert{background:#fee2e2;border:1px solid #ef4444;color:#7f1d1d}
.banner.info{background:#e0f2fe;border:1px solid #0ea5e9;color:#0c4a6e}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{flex:1 1 180px;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px}
.card .label{color:#6b7280;font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.4rem;font-weight:700}
tr.highlight td{background:#eff6ff;font-weight:600}
footer{margin-top:40px;color:#9ca3af;font-size:.8rem}
`;

/**
 * One self-contained HTML page: inline CSS, the system font stack, no script, no external URL of
 * any kind, so it reads offline and as an e-mail attachment. `title` and `subtitle` are escaped;
 * `body` is HTML built by the report builders.
 */
export function htmlPage(options: { readonly title: string; readonly subtitle: string; readonly body: string; readonly footer: string }): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${escapeHtml(options.title)}</h1>
<p class="meta">${escapeHtml(options.subtitle)}</p>
${options.body}
<footer>${escapeHtml(options.footer)}</footer>
</main></body></html>
`;
}
