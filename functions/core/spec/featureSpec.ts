import { z } from 'zod';
import { SpecError } from '../errors.js';
import { parseWith } from '../validation.js';

/**
 * The feature spec: how each column of an extract becomes model input.
 *
 * A person writes (or `propensity infer-spec` drafts) an *unfitted* spec; `fitSpec(spec, rows)`
 * learns every parameter (medians, vocabularies, scales, clip bounds) from training data and
 * returns a *fitted* spec, which is stored in the model bundle and used unchanged at scoring time.
 */

export const DEFAULT_MISSING_MARKERS = ['', 'NA', 'N/A', 'na', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None'] as const;

/** pandas' default `na_values` (`read_csv`, pandas 2): what a scikit-learn pipeline fed by pandas saw as missing. */
export const PANDAS_MISSING_MARKERS = [
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
] as const;

/** Named missing-token lists a column may give instead of its own list (`"missing": "pandas"`). */
export const MISSING_MARKER_PRESETS = { default: DEFAULT_MISSING_MARKERS, pandas: PANDAS_MISSING_MARKERS } as const;

/** A list of missing tokens, or a preset's name: stored expanded, so a fitted spec names every token it uses. */
const missingSchema = z.union([z.array(z.string()), z.enum(['default', 'pandas']).transform((preset) => [...MISSING_MARKER_PRESETS[preset]])]);

const imputeSchema = z
  .object({
    /**
     * `most_frequent` is scikit-learn's spelling of `most-frequent`. `nan`: a missing number reaches the
     * model as NaN, for a model that imputes itself (an imported scikit-learn pipeline).
     */
    strategy: z
      .enum(['median', 'mean', 'constant', 'most-frequent', 'most_frequent', 'missing-category', 'none', 'nan'])
      .transform((strategy) => (strategy === 'most_frequent' ? 'most-frequent' : strategy)),
    /** For `constant`: the value to fill in (a number for numeric columns, a string for categorical). */
    value: z.union([z.number(), z.string()]).optional(),
    /** Add a 0/1 "was missing" feature beside the column. */
    indicator: z.boolean().default(false),
  })
  .strict();

const clipSchema = z
  .object({
    /** Quantiles fitted on training data; values outside are clipped (outliers). */
    lowerQuantile: z.number().min(0).max(1).default(0.01),
    upperQuantile: z.number().min(0).max(1).default(0.99),
  })
  .strict();

/** How numeric columns become slots: scaled (one slot) or piecewise-linear over quantile bins. */
export const numericEncodingSchema = z
  .object({
    encoding: z.enum(['scale', 'ple']),
    bins: z.number().int().min(2).max(256).default(16),
  })
  .strict();
export type NumericEncoding = z.infer<typeof numericEncodingSchema>;

export const columnSpecSchema = z
  .object({
    /** Header name; for header-less files, the name given to that position (see `position`). */
    name: z.string().min(1),
    /** 1-based position in a header-less file. Ignored when the file has a header. */
    position: z.number().int().positive().optional(),
    role: z.enum(['id', 'feature', 'target', 'ignore']),
    type: z.enum(['numeric', 'categorical', 'boolean', 'date']).default('numeric'),
    /**
     * Values that mean "missing" in this column (the empty cell always does): a list, or a preset name,
     * `default` ({@link DEFAULT_MISSING_MARKERS}, the default) or `pandas` ({@link PANDAS_MISSING_MARKERS}).
     */
    missing: missingSchema.optional(),
    /** Trim blanks around a cell before matching missing tokens and categories. @default true */
    trim: z.boolean().optional(),
    impute: imputeSchema.optional(),
    scale: z.enum(['standard', 'minmax', 'none']).default('standard'),
    /**
     * Fit the scaler on the imputed column, as scikit-learn's `Pipeline([SimpleImputer, StandardScaler])`
     * does (missing cells count at their fill value). By default it is fitted on the values present.
     * Either way a missing cell is filled first and then scaled.
     * @default false
     */
    scaleAfterImpute: z.boolean().optional(),
    clip: clipSchema.optional(),
    /**
     * Numeric and date columns: `scale` (one slot, as `scale` says) or `ple`, piecewise-linear
     * encoding over `bins` quantile bins (Gorishniy et al. 2022). Defaults to the spec's `numericEncoding`.
     */
    encoding: z.enum(['scale', 'ple']).optional(),
    /** PLE: quantile bins fitted on the training rows (fewer when values repeat). Defaults to the spec's `numericEncoding.bins`. */
    bins: z.number().int().min(2).max(256).optional(),
    /** Categorical: categories seen fewer times than this in training go to `other`. */
    minCategoryCount: z.number().int().min(1).default(1),
    /** Categorical: keep at most this many categories (most frequent first); the rest go to `other`. */
    maxCategories: z.number().int().min(1).default(50),
    /**
     * Categorical: the categories, in one-hot slot order, instead of learning them from the data
     * (scikit-learn's `OneHotEncoder(categories=[…])`); `minCategoryCount` and `maxCategories` then do not apply.
     */
    categories: z.array(z.string()).min(1).optional(),
    /**
     * Categorical: where a value outside the categories goes. `other`: its own `__other__` slot (rare
     * categories too). `ignore`: an all-zero block, scikit-learn's `handle_unknown='ignore'` (no `__other__` slot).
     * @default 'other'
     */
    unknown: z.enum(['other', 'ignore']).optional(),
    /**
     * Categorical: `one-hot` slots, or `string`: the model takes the text itself as a string tensor
     * (an imported pipeline that one-hot encodes inside its graph). @default 'one-hot'
     */
    feed: z.enum(['one-hot', 'string']).optional(),
    /** Categorical: values that mean the same thing, mapped before encoding (e.g. `"CC": "Credit Card"`). */
    aliases: z.record(z.string(), z.string()).optional(),
    /** Boolean: the strings that mean true / false (case-insensitive). */
    trueValues: z.array(z.string()).optional(),
    falseValues: z.array(z.string()).optional(),
    /** A missing value in this column (after imputation is impossible) rejects the row. Defaults: true for `id`. */
    required: z.boolean().optional(),
    /**
     * Sequence models: columns with the same group form one `[periods, features]` input;
     * `period` orders them (e.g. `spend_m1` … `spend_m10` → group `monthly`, feature `spend`, period 1…10).
     */
    sequence: z
      .object({ group: z.string().min(1), feature: z.string().min(1), period: z.number().int().min(1) })
      .strict()
      .optional(),
    description: z.string().optional(),
  })
  .strict();

/**
 * A crossed feature: one one-hot block over the combinations of two or more categorical feature
 * columns (e.g. month × day, which a tree splits jointly and an MLP would have to learn). Fitted on the
 * training rows: combinations seen at least `minCategoryCount` times, at most `maxCategories` of the
 * most frequent, each get a slot; every other combination (rare, unseen, a source missing or `other`)
 * lands on the block's `__other__` slot. The block is named `a×b` (see {@link crossName}).
 */
export const crossSpecSchema = z
  .object({
    /** Two or more distinct feature columns of the spec: categorical (one-hot fed), or numeric with `bins`. */
    columns: z.array(z.string().min(1)).min(2),
    /** The block's name in slot names, importance and reasons. @default the columns joined by `×` */
    name: z.string().min(1).optional(),
    /**
     * Bands a source before crossing: a numeric column's value, or a categorical column's category
     * read as a number (one that is not crosses as `__other__`). `{ "day": [8, 15, 22, 29] }` crosses
     * the week of the month, not the day: ascending edges, each band `[edge, next edge)`.
     */
    bins: z.record(z.string(), z.array(z.number().finite()).min(1)).optional(),
    /** Combinations seen fewer times than this in training go to `__other__`. @default 10 */
    minCategoryCount: z.number().int().min(1).default(10),
    /** Keep at most this many combinations (most frequent first); the rest go to `__other__`. @default 500 */
    maxCategories: z.number().int().min(1).default(500),
    description: z.string().optional(),
  })
  .strict();
export type CrossSpec = z.infer<typeof crossSpecSchema>;

/** Name of a cross's block (and of its permutation-importance group): its `name`, else the source columns joined by `×`. */
export function crossName(cross: { readonly columns: readonly string[]; readonly name?: string | undefined }): string {
  return cross.name ?? cross.columns.join('×');
}

export const featureSpecSchema = z
  .object({
    schemaVersion: z.literal(1).default(1),
    /** How the extract file is laid out. Delimiter `auto` detects `,` `;` tab `|`. */
    file: z
      .object({
        header: z.boolean().default(true),
        delimiter: z.enum(['auto', ',', ';', '\t', '|']).default('auto'),
        /** Share of rows (0–1) a run may reject before it fails with EXTRACT_TOO_MANY_REJECTS. @default 0.05 */
        maxRejectRate: z.number().min(0).max(1).optional(),
      })
      .strict()
      .default({ header: true, delimiter: 'auto' }),
    /** Dates are turned into "days before this date" (ISO date). Defaults to the fit date. */
    referenceDate: z.string().optional(),
    /** Binary tasks: which target value is the positive class (e.g. `yes`, `1`). */
    positiveClass: z.string().optional(),
    /** Default encoding of numeric and date feature columns outside sequence groups (a column's own `encoding`/`bins` win). */
    numericEncoding: numericEncodingSchema.optional(),
    columns: z.array(columnSpecSchema).min(1),
    /** Crossed features, each a one-hot block after the columns' slots (see {@link crossSpecSchema}). */
    crosses: z.array(crossSpecSchema).optional(),
    /**
     * Sequence specs: how a *long* extract (one row per customer per period, as a warehouse keeps
     * statements) is read. A file whose header has `periodColumn` is read as long, one without it as
     * wide; both give the encoder the same cells. In a long file a sequence column is named by its
     * `sequence.feature` (`spend_groceries`, not `spend_groceries_m3`).
     */
    long: z
      .object({
        /** The column that says which period a row holds. */
        periodColumn: z.string().min(1),
        /**
         * `number`: the cell is the period itself (period k fills the `sequence.period: k` columns).
         * `latest`: the cells are ordered as text (ISO dates, `2026-10`, `202610` sort in time order);
         * each customer's latest N map to periods N, N−1, …, its most recent to N.
         * @default 'number'
         */
        periods: z.enum(['number', 'latest']).default('number'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.columns.forEach((column, index) => {
      if (seen.has(column.name)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'name'], message: `duplicate column "${column.name}"` });
      }
      seen.add(column.name);
      if ((column.encoding === 'ple' || column.bins !== undefined) && (column.type === 'categorical' || column.type === 'boolean' || column.sequence)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'encoding'], message: 'piecewise-linear encoding applies to numeric and date columns outside sequence groups' });
      }
      if (!spec.file.header && column.position === undefined && column.role !== 'ignore') {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'position'], message: 'a header-less file needs a position for every column' });
      }
    });
    if (spec.columns.filter((c) => c.role === 'id').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'at most one id column' });
    }
    if (spec.columns.filter((c) => c.role === 'target').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'at most one target column' });
    }
    if (!spec.columns.some((c) => c.role === 'feature')) {
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'at least one feature column' });
    }
    if (spec.long) refineLongLayout(spec.long, spec, ctx);
    if (spec.crosses) refineCrosses(spec.crosses, spec.columns, ctx);
  });

/** Every cross names distinct feature columns of the spec (one-hot categorical, or numeric with bins), and no two crosses share a name. */
function refineCrosses(crosses: readonly CrossSpec[], columns: readonly z.infer<typeof columnSpecSchema>[], ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  crosses.forEach((cross, index) => {
    const name = crossName(cross);
    if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['crosses', index, 'columns'], message: `cross "${name}" is given twice` });
    names.add(name);
    cross.columns.forEach((columnName, at) => {
      const column = columns.find((c) => c.name === columnName);
      const problem =
        cross.columns.indexOf(columnName) !== at
          ? 'is named twice'
          : !column
            ? 'is not a column of the spec'
            : column.role !== 'feature'
              ? `is a ${column.role} column, not a feature`
              : column.type === 'numeric' && !cross.bins?.[columnName]
                ? 'is numeric: give it bins to cross it'
                : column.type !== 'categorical' && column.type !== 'numeric'
                  ? `is ${column.type}, not categorical or numeric`
                  : column.feed === 'string'
                    ? 'is fed as a string, not one-hot'
                    : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['crosses', index, 'columns', at], message: `cross "${name}": column "${columnName}" ${problem}` });
    });
    for (const [columnName, edges] of Object.entries(cross.bins ?? {})) {
      const problem = !cross.columns.includes(columnName)
        ? 'is not one of the cross\'s columns'
        : edges.some((edge, i) => i > 0 && edge <= edges[i - 1]!)
          ? 'needs strictly ascending edges'
          : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['crosses', index, 'bins', columnName], message: `cross "${name}": bins for "${columnName}" ${problem}` });
    }
  });
}

/** A long layout needs a header (the period column is found by name) and one long column per sequence feature and period. */
function refineLongLayout(long: { periodColumn: string }, spec: { file: { header: boolean }; columns: z.infer<typeof columnSpecSchema>[] }, ctx: z.RefinementCtx): void {
  if (!spec.file.header) ctx.addIssue({ code: 'custom', path: ['long'], message: 'a long layout needs a header line (file.header: true)' });
  if (!spec.columns.some((c) => c.sequence)) ctx.addIssue({ code: 'custom', path: ['long'], message: 'a long layout needs sequence columns' });
  const seen = new Set<string>();
  spec.columns.forEach((column, index) => {
    if (column.name === long.periodColumn) {
      ctx.addIssue({ code: 'custom', path: ['columns', index, 'name'], message: `"${column.name}" is the long layout's period column` });
    }
    if (!column.sequence) return;
    const key = `${column.sequence.feature}\u0000${column.sequence.period}`;
    if (seen.has(key)) {
      ctx.addIssue({ code: 'custom', path: ['columns', index, 'sequence'], message: `feature "${column.sequence.feature}" has period ${column.sequence.period} twice: a long row could not say which column it fills` });
    }
    seen.add(key);
  });
}

export type ColumnSpec = z.infer<typeof columnSpecSchema>;
export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type FeatureSpecInput = z.input<typeof featureSpecSchema>;

/** Parameters learnt by `fitSpec` for one column. */
export const fittedColumnSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('numeric'),
      /** Value used for a missing cell (after the column's imputation strategy). NaN is not allowed. */
      fill: z.number(),
      clipLower: z.number().nullable(),
      clipUpper: z.number().nullable(),
      /** Output = (clipped value − shift) / scale. */
      shift: z.number(),
      scale: z.number(),
      /** Training missing rate (also part of the drift baseline). */
      missingRate: z.number(),
      /**
       * Piecewise-linear encoding: bin edges b₀ < … < b_T (quantiles of the clipped training values).
       * The column then writes T slots instead of one, and `shift`/`scale` are unused.
       */
      edges: z.array(z.number()).min(2).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('categorical'),
      /** One one-hot slot per entry, in this order. Includes `other` (rare and unseen) and, if imputed so, `missing`. */
      vocabulary: z.array(z.string()),
      /** Slot index of `other` in the vocabulary; -1 (no such slot) only with `unknown: 'ignore'`. */
      otherIndex: z.number().int(),
      /** `ignore`: an unseen value writes an all-zero block (scikit-learn's `handle_unknown='ignore'`). Absent: `other`. */
      unknown: z.enum(['other', 'ignore']).optional(),
      /** Slot used for missing cells: the most frequent category, `missing`, or a constant. */
      fillIndex: z.number().int().nullable(),
      missingRate: z.number(),
    })
    .strict(),
]);
export type FittedColumn = z.infer<typeof fittedColumnSchema>;

/** Parameters learnt by `fitSpec` for one cross (same position as in `spec.crosses`). */
export const fittedCrossSchema = z
  .object({
    /** The source columns, as the cross names them. */
    columns: z.array(z.string()).min(2),
    /** As the spec's cross gives them (absent when it does not). */
    name: z.string().min(1).optional(),
    bins: z.record(z.string(), z.array(z.number().finite()).min(1)).optional(),
    /**
     * One slot per kept combination, in this order: each entry holds one level of each source column,
     * a category of its fitted vocabulary or, for a binned source, a band's label (see
     * `crossLevels`). The block's last slot is `__other__`.
     */
    combinations: z.array(z.array(z.string())),
  })
  .strict();
export type FittedCross = z.infer<typeof fittedCrossSchema>;

export const fittedSpecSchema = z
  .object({
    spec: featureSpecSchema,
    fittedAt: z.string(),
    /** Rows the parameters were learnt from. */
    trainingRows: z.number().int().nonnegative(),
    /** Fitted parameters per column name (features only; booleans and dates are fitted as numeric). */
    columns: z.record(z.string(), fittedColumnSchema),
    /** Fitted crosses, one per `spec.crosses` entry, in that order. Absent when the spec has none. */
    crosses: z.array(fittedCrossSchema).optional(),
    /** Name of every slot in the encoded vector, in order (e.g. `age`, `job=admin.`, `age__missing`, `month×day=may|5`). */
    featureNames: z.array(z.string()),
    /**
     * `featureNames`: `featureNames` is the model's input order, any permutation of the slots the encoder
     * writes (e.g. a scikit-learn ColumnTransformer's output order); each slot is written at its name's
     * position. Absent: `featureNames` must be the encoder's own order.
     */
    slotOrder: z.literal('featureNames').optional(),
    /** Columns fed to the model as text (`feed: 'string'`), one string slot each, in order. */
    textNames: z.array(z.string()).optional(),
    /** Target classes in model output order (binary: [negative, positive]). */
    classes: z.array(z.string()).optional(),
    /** Sequence layout when the spec groups columns: `[periods, features]` per group, in slot order. */
    sequences: z
      .array(
        z
          .object({
            group: z.string(),
            /** First slot of the group in the encoded vector; slots run period-major: p1f1, p1f2, …, p2f1, … */
            offset: z.number().int().nonnegative(),
            periods: z.number().int().positive(),
            features: z.array(z.string()),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
export type FittedSpec = z.infer<typeof fittedSpecSchema>;


/**
 * Validates an unfitted spec (e.g. parsed from `spec.json`) and fills defaults.
 * @throws SpecError naming the source and the first invalid path.
 */
export function parseFeatureSpec(value: unknown, source = 'feature spec'): FeatureSpec {
  return parseWith(featureSpecSchema, value, ({ path, all }) => new SpecError('SPEC_INVALID', all, { source, path }), { root: '' });
}

/** Validates a fitted spec as stored in a model bundle. */
export function parseFittedSpec(value: unknown, source = 'fitted spec'): FittedSpec {
  return parseWith(fittedSpecSchema, value, ({ path, all }) => new SpecError('SPEC_INVALID', all, { source, path }), { root: '' });
}

/**
 * Bins of a column's piecewise-linear encoding, or undefined when it is scaled into one slot: the
 * column's own `encoding`/`bins`, else the spec's `numericEncoding`; only numeric and date features
 * outside sequence groups (a sequence column keeps one slot per period).
 */
export function pleBinsFor(spec: Pick<FeatureSpec, 'numericEncoding'>, column: ColumnSpec): number | undefined {
  if (column.sequence || (column.type !== 'numeric' && column.type !== 'date')) return undefined;
  const encoding = column.encoding ?? spec.numericEncoding?.encoding ?? 'scale';
  if (encoding !== 'ple') return undefined;
  return column.bins ?? spec.numericEncoding?.bins ?? 16;
}

/** Slots a fitted column writes, without its missing indicator: one per category, one per PLE bin, or one. */
export function fittedSlotCount(fit: FittedColumn): number {
  if (fit.kind === 'categorical') return fit.vocabulary.length;
  return fit.edges ? fit.edges.length - 1 : 1;
}

export function missingMarkers(column: ColumnSpec): ReadonlySet<string> {
  // An empty cell is always missing: a column's own markers add to it, they do not replace it.
  return new Set(['', ...(column.missing ?? DEFAULT_MISSING_MARKERS)]);
}

export function idColumn(spec: FeatureSpec): ColumnSpec | undefined {
  return spec.columns.find((c) => c.role === 'id');
}

export function targetColumn(spec: FeatureSpec): ColumnSpec | undefined {
  return spec.columns.find((c) => c.role === 'target');
}

export function featureColumns(spec: FeatureSpec): ColumnSpec[] {
  return spec.columns.filter((c) => c.role === 'feature');
}

/** One-hot categories and where unseen values are counted, as the drift baseline keeps them: an `ignore` column gains an `__other__` bucket there. */
export function baselineCategories(fit: Extract<FittedColumn, { kind: 'categorical' }>): { categories: string[]; otherIndex: number } {
  if (fit.unknown !== 'ignore') return { categories: [...fit.vocabulary], otherIndex: fit.otherIndex };
  return { categories: [...fit.vocabulary, '__other__'], otherIndex: fit.vocabulary.length };
}

/**
 * `impute: nan` and `feed: string` describe an imported model that imputes and encodes inside its own
 * graph; a network trained here takes numbers only.
 * @throws SpecError SPEC_INVALID naming the first column that uses one.
 */
export function refuseImportOnlyOptions(spec: FeatureSpec, source: string): void {
  spec.columns.forEach((column, index) => {
    if (column.role !== 'feature') return;
    if (column.impute?.strategy === 'nan') throw new SpecError('SPEC_INVALID', 'impute "nan" is for imported models that impute themselves; a trained network needs a fill', { source, path: `columns.${index}.impute.strategy` });
    if (column.feed === 'string') throw new SpecError('SPEC_INVALID', 'feed "string" is for imported models that encode text themselves; a trained network takes one-hot slots', { source, path: `columns.${index}.feed` });
  });
}
