import type { TopLevelSpec } from 'vega-lite';

/**
 * Vega-Lite spec builders shared by the run, training and drift reports: each takes plain rows and
 * returns a spec for {@link renderChart}. Data travels inline (`data.values`), never by URL.
 */

type Row = Readonly<Record<string, string | number | null>>;

const WIDTH = 440;
const HEIGHT = 240;

/** Bars of `y` per category `x`, in the given order (sorted categories would hide the data's own order). */
export function barChart(options: {
  readonly rows: readonly Row[];
  readonly x: string;
  readonly y: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly horizontal?: boolean;
  readonly color?: string;
  readonly yFormat?: string;
  /** Colour bars by this field with the given colours per value (e.g. drift level). */
  readonly colorBy?: { readonly field: string; readonly colors: Readonly<Record<string, string>>; readonly title: string };
  /** Dashed lines across the value axis (e.g. warn and alert thresholds). */
  readonly rules?: ReadonlyArray<{ readonly at: number; readonly label: string }>;
}): TopLevelSpec {
  const category = { field: options.x, type: 'nominal' as const, sort: null, title: options.xTitle, axis: { labelLimit: 180 } };
  const value = { field: options.y, type: 'quantitative' as const, title: options.yTitle, ...(options.yFormat ? { axis: { format: options.yFormat } } : {}) };
  const bars = Math.max(1, options.rows.length);
  const color = options.colorBy
    ? { color: { field: options.colorBy.field, type: 'nominal', title: options.colorBy.title, scale: { domain: Object.keys(options.colorBy.colors), range: Object.values(options.colorBy.colors) } } }
    : {};
  const barLayer = {
    data: { values: [...options.rows] },
    mark: { type: 'bar', color: options.color ?? '#2563eb' },
    encoding: { ...(options.horizontal ? { y: category, x: value } : { x: { ...category, axis: { labelAngle: 0, labelLimit: 90 } }, y: value }), ...color },
  };
  const valueAxis = options.horizontal ? 'x' : 'y';
  const rules = (options.rules ?? []).map((r) => ({ at: r.at, label: r.label }));
  const ruleLayers = rules.length === 0 ? [] : [
    { data: { values: rules }, mark: { type: 'rule', strokeDash: [6, 3], color: '#dc2626' }, encoding: { [valueAxis]: { field: 'at', type: 'quantitative' } } },
    {
      data: { values: rules },
      mark: options.horizontal ? { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2, color: '#dc2626', fontSize: 11 } : { type: 'text', align: 'left', baseline: 'bottom', dx: 3, dy: -2, color: '#dc2626', fontSize: 11 },
      encoding: options.horizontal ? { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } } : { y: { field: 'at', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    },
  ];
  return {
    width: options.horizontal ? 360 : Math.min(WIDTH, Math.max(160, bars * 28)),
    height: options.horizontal ? Math.min(600, Math.max(60, bars * 18)) : HEIGHT,
    layer: [barLayer, ...ruleLayers],
  } as TopLevelSpec;
}

/** Bars of two or more series side by side (e.g. baseline vs current share per bin). */
export function groupedBarChart(options: {
  readonly rows: readonly Row[];
  readonly x: string;
  readonly y: string;
  readonly series: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly yFormat?: string;
}): TopLevelSpec {
  const bins = new Set(options.rows.map((r) => r[options.x])).size;
  return {
    width: Math.min(520, Math.max(200, bins * 34)),
    height: 200,
    data: { values: [...options.rows] },
    mark: 'bar',
    encoding: {
      x: { field: options.x, type: 'nominal', sort: null, title: options.xTitle, axis: { labelAngle: -30, labelLimit: 110 } },
      xOffset: { field: options.series, sort: null },
      y: { field: options.y, type: 'quantitative', title: options.yTitle, ...(options.yFormat ? { axis: { format: options.yFormat } } : {}) },
      color: { field: options.series, type: 'nominal', sort: null, title: null },
    },
  };
}

/** One line per `series` over a quantitative x; optional vertical rules with labels (cut-off, budget, thresholds). */
export function lineChart(options: {
  readonly rows: readonly Row[];
  readonly x: string;
  readonly y: string;
  readonly series?: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xFormat?: string;
  readonly yFormat?: string;
  readonly rules?: ReadonlyArray<{ readonly at: number; readonly label: string }>;
  readonly points?: ReadonlyArray<{ readonly x: number; readonly y: number; readonly label: string }>;
  readonly diagonal?: boolean;
  readonly square?: boolean;
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  readonly showPoints?: boolean;
  /** Whole-number ticks only on x (epochs, trials). */
  readonly xIntegers?: boolean;
  /** `temporal`: x holds ISO dates. @default 'quantitative' */
  readonly xType?: 'quantitative' | 'temporal';
}): TopLevelSpec {
  const scaleX = options.xDomain ? { domain: [...options.xDomain] } : options.xType === 'temporal' ? { type: 'utc' } : { zero: false };
  const scaleY = options.yDomain ? { domain: [...options.yDomain] } : { zero: false };
  const xAxis = options.xIntegers ? { format: 'd', tickMinStep: 1 } : options.xFormat ? { format: options.xFormat } : null;
  const x = { field: options.x, type: options.xType ?? 'quantitative', title: options.xTitle, scale: scaleX, ...(xAxis ? { axis: xAxis } : {}) };
  const y = { field: options.y, type: 'quantitative', title: options.yTitle, scale: scaleY, ...(options.yFormat ? { axis: { format: options.yFormat } } : {}) };
  const layers: unknown[] = [];
  if (options.diagonal) {
    layers.push({
      data: { values: [{ d: 0 }, { d: 1 }] },
      mark: { type: 'line', strokeDash: [4, 4], color: '#9ca3af' },
      encoding: { x: { field: 'd', type: 'quantitative' }, y: { field: 'd', type: 'quantitative' } },
    });
  }
  layers.push({
    data: { values: [...options.rows] },
    mark: { type: 'line', point: options.showPoints ?? false, strokeWidth: 2 },
    encoding: { x, y, ...(options.series ? { color: { field: options.series, type: 'nominal', sort: null, title: null } } : {}) },
  });
  if (options.rules && options.rules.length > 0) {
    const values = options.rules.map((r) => ({ at: r.at, label: r.label }));
    layers.push({ data: { values }, mark: { type: 'rule', strokeDash: [6, 3], color: '#dc2626', strokeWidth: 1.5 }, encoding: { x: { field: 'at', type: 'quantitative' } } });
    layers.push({
      data: { values },
      mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, dy: -3, color: '#dc2626', fontSize: 11 },
      encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  if (options.points && options.points.length > 0) {
    const values = options.points.map((p) => ({ px: p.x, py: p.y, label: p.label }));
    layers.push({ data: { values }, mark: { type: 'point', filled: true, size: 70, color: '#dc2626' }, encoding: { x: { field: 'px', type: 'quantitative' }, y: { field: 'py', type: 'quantitative' } } });
    layers.push({ data: { values }, mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11, color: '#7f1d1d' }, encoding: { x: { field: 'px', type: 'quantitative' }, y: { field: 'py', type: 'quantitative' }, text: { field: 'label' } } });
  }
  return { width: options.square ? 300 : WIDTH, height: options.square ? 300 : HEIGHT, layer: layers } as TopLevelSpec;
}

/** A histogram over [0, 1] from precomputed bins (`from`, `to`, `count`). */
export function histogramChart(options: { readonly bins: ReadonlyArray<{ readonly from: number; readonly to: number; readonly count: number }>; readonly xTitle: string; readonly yTitle: string; readonly color?: string }): TopLevelSpec {
  return {
    width: WIDTH,
    height: 200,
    data: { values: options.bins.map((b) => ({ from: b.from, to: b.to, count: b.count })) },
    mark: { type: 'rect', color: options.color ?? '#2563eb', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'from', type: 'quantitative', title: options.xTitle, scale: { domain: [0, 1] }, axis: { tickCount: 10 } },
      x2: { field: 'to' },
      y: { field: 'count', type: 'quantitative', title: options.yTitle, axis: { format: ',.0f' } },
      y2: { datum: 0 },
    },
  };
}

/** A calibration reliability diagram: mean predicted against observed rate per bin, the diagonal is perfect. */
export function reliabilityChart(series: ReadonlyArray<{ readonly name: string; readonly bins: ReadonlyArray<{ readonly meanPredicted: number; readonly observedRate: number }> }>): TopLevelSpec {
  const rows = series.flatMap((s) => s.bins.map((b) => ({ series: s.name, predicted: b.meanPredicted, observed: b.observedRate })));
  return lineChart({ rows, x: 'predicted', y: 'observed', series: 'series', xTitle: 'mean predicted probability', yTitle: 'observed rate', diagonal: true, square: true, xDomain: [0, 1], yDomain: [0, 1], showPoints: true });
}

/** A heatmap of counts with the count written in each cell (confusion matrix). */
export function heatmapChart(options: { readonly rows: readonly Row[]; readonly x: string; readonly y: string; readonly value: string; readonly xTitle: string; readonly yTitle: string }): TopLevelSpec {
  const size = Math.min(420, Math.max(160, new Set(options.rows.map((r) => r[options.x])).size * 70));
  const largest = Math.max(0, ...options.rows.map((r) => Number(r[options.value]) || 0));
  const x = { field: options.x, type: 'nominal', sort: null, title: options.xTitle, axis: { labelAngle: 0 } };
  const y = { field: options.y, type: 'nominal', sort: null, title: options.yTitle };
  return {
    width: size,
    height: size,
    data: { values: [...options.rows] },
    encoding: { x, y },
    layer: [
      { mark: 'rect', encoding: { color: { field: options.value, type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 12 },
        // Light text on the dark (large) cells, dark text on the light ones.
        encoding: { text: { field: options.value, type: 'quantitative', format: ',' }, color: { condition: { test: `datum[${JSON.stringify(options.value)}] > ${largest / 2}`, value: 'white' }, value: '#111827' } },
      },
    ],
  } as TopLevelSpec;
}
