import { escapeHtml } from './html.js';

/** A row of headline figures (label, already formatted value), both escaped. */
export function metricCards(cards: ReadonlyArray<readonly [label: string, value: string]>): string {
  const items = cards.map(([label, value]) => `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`);
  return `<div class="cards">${items.join('')}</div>`;
}
