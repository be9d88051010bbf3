/**
 * Turning a foreign ONNX model into a model bundle (`propensity import`). Pure: bytes and parsed
 * JSON in, a bundle out; the CLI reads the files and writes the registry.
 *
 * Two shapes:
 * - a whole pipeline (as skl2onnx exports a scikit-learn Pipeline): one `[N, 1]` input per raw
 *   column, float or string, preprocessing inside the graph. The feature spec is derived from the
 *   inputs: each is a feature column read by name, a number passed as NaN when missing (the graph's
 *   Imputer fills it), a string as "" (or the spec's constant);
 * - a features-only model (`[N, width]` float input) plus a fitted feature spec that describes the
 *   preprocessing: its slot count must be the input's width.
 * A graph that ends in ZipMap (a sequence of maps, which onnxruntime-node cannot return) is served
 * from the tensor before it: the ZipMap node is removed.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { createBundle } from '../bundle/bundle.js';
import type { BundleManifest } from '../bundle/bundleManifest.js';
import { fittedSpecProblem } from '../bundle/fittedSpecContract.js';
import { campaignEconomicsSchema, type CampaignEconomics } from '../economics/campaignEconomics.js';
import { BundleError } from '../errors.js';
import { parseFeatureSpec, parseFittedSpec, type FittedSpec } from '../spec/featureSpec.js';
import { OTHER_CATEGORY, slotNames, textSlotNames } from '../spec/fitSpec.js';
import { versionStamp } from '../training/versionStamp.js';

const { onnx } = pkg;
const T = onnx.TensorProto.DataType;

/** Placeholder campaign economics of an imported model, until a person sets real ones (reports say so). */
const IMPORT_ECONOMICS: CampaignEconomics = campaignEconomicsSchema.parse({ placeholder: true, costPerContact: 1, valuePerResponse: 10 });

export interface ImportOnnxOptions {
  /** The ONNX file's bytes. */
  readonly model: Uint8Array;
  /** The ONNX file's name, for messages. */
  readonly source: string;
  /** Model name in the registry. */
  readonly name: string;
  /** Features-only shape: the fitted feature spec (parsed JSON), `fittedAt`/`trainingRows` optional. */
  readonly spec?: unknown;
  readonly specSource?: string;
  /** Pipeline shape: the extract column that holds the customer id (none: the line number is the id). */
  readonly idColumn?: string;
  /** Class labels in output order; default: the graph's (ZipMap, classifier node), the spec's, else `0`…`K−1`. */
  readonly classes?: readonly string[];
  /** Real campaign economics; default {@link IMPORT_ECONOMICS} (placeholders). */
  readonly economics?: CampaignEconomics;
  readonly description?: string;
  /** @default new Date() */
  readonly now?: Date;
}

export interface ImportedModel {
  readonly bundle: { readonly manifest: BundleManifest; readonly files: ReadonlyMap<string, Uint8Array> };
  readonly shape: 'pipeline' | 'features-only';
  /** The ZipMap node removed, when the graph ended in one (the output served instead). */
  readonly removedZipMap: { readonly node: string; readonly output: string; readonly servedInstead: string } | null;
  /** What import did, one line each, for the person running it. */
  readonly messages: readonly string[];
}

interface GraphValue {
  readonly name: string;
  readonly elemType: number | null;
  /** Dimensions: a number, or null for a symbolic/unknown one. Null when the value is not a tensor. */
  readonly dims: Array<number | null> | null;
}

const TYPE_NAMES: Record<number, string> = { [T.FLOAT]: 'float', [T.DOUBLE]: 'double', [T.STRING]: 'string', [T.INT64]: 'int64', [T.INT32]: 'int32', [T.BOOL]: 'bool' };
const typeName = (v: GraphValue) => (v.elemType === null ? 'not a tensor' : (TYPE_NAMES[v.elemType] ?? `type ${v.elemType}`));
const shapeText = (v: GraphValue) => (v.dims ? `[${v.dims.map((d) => d ?? 'N').join(', ')}]` : '(no shape)');

function describeValue(value: OnnxTypes.IValueInfoProto): GraphValue {
  const tensor = value.type?.tensorType;
  if (!tensor) return { name: value.name ?? '', elemType: null, dims: null };
  const dims = tensor.shape?.dim?.map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null)) ?? null;
  return { name: value.name ?? '', elemType: tensor.elemType ?? null, dims };
}

function attribute(node: OnnxTypes.INodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** Class labels a classifier node or ZipMap declares (`classlabels_strings` / `classlabels_int64s`). */
function classLabelsOf(node: OnnxTypes.INodeProto): string[] | undefined {
  const strings = attribute(node, 'classlabels_strings')?.strings;
  if (strings && strings.length > 0) return strings.map((s) => new TextDecoder().decode(s));
  const ints = attribute(node, 'classlabels_int64s')?.ints ?? attribute(node, 'classlabels_ints')?.ints;
  if (ints && ints.length > 0) return ints.map((i) => String(i));
  return undefined;
}

/**
 * Imports an ONNX model as a bundle: inspects its graph (removing a final ZipMap), derives or
 * checks the feature spec, and assembles the manifest as `train` does (sha256 of every file,
 * placeholder economics unless given).
 * @throws BundleError BUNDLE_INVALID naming the ONNX file (and input) for a graph it cannot serve,
 *   SpecError for a spec that does not validate or does not fit the graph's input width.
 * @example
 * const { bundle, messages } = importOnnx({ model: bytes, source: 'churn.onnx', name: 'churn', idColumn: 'customer_id' });
 */
export function importOnnx(options: ImportOnnxOptions): ImportedModel {
  const { source } = options;
  const fail = (message: string) => new BundleError('BUNDLE_INVALID', message, { bundle: source });
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(options.model);
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `not an ONNX model: ${(cause as Error).message}`, { bundle: source, cause });
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) throw fail('the ONNX model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name)).map(describeValue);
  if (inputs.length === 0) throw fail('the graph has no inputs');

  const messages: string[] = [];
  const removedZipMap = removeZipMap(graph);
  if (removedZipMap) {
    messages.push(`removed the final ZipMap node "${removedZipMap.node}" (output "${removedZipMap.output}", a sequence of maps onnxruntime-node cannot return): serving the tensor "${removedZipMap.servedInstead}" before it`);
  }
  const output = chooseOutput(graph, fail);
  const bytes = removedZipMap ? onnx.ModelProto.encode(model).finish() : options.model;

  const graphClasses = graph.node!.map(classLabelsOf).find((labels) => labels !== undefined) ?? removedZipMap?.classes;
  const now = options.now ?? new Date();
  const featuresOnly = options.spec !== undefined;
  const { fitted, io } = featuresOnly
    ? featuresOnlySpec(options, inputs, fail, now)
    : pipelineSpec(options, inputs, graph, fail, now);
  const outputWidth = output.dims?.at(-1) ?? null;
  const classes = [...(options.classes ?? graphClasses ?? fitted.classes ?? defaultClasses(outputWidth))];
  if (classes.length < 2) throw fail(`the model needs at least two classes, got [${classes.join(', ')}] (give --classes)`);
  const binary = classes.length === 2;
  const positiveProbability = output.dims !== null && (output.dims.length === 1 || outputWidth === 1);
  if (!binary && positiveProbability) throw fail(`output "${output.name}" gives one value per row, but ${classes.length} classes need one column each`);
  if (outputWidth !== null && outputWidth !== 1 && outputWidth !== classes.length) {
    throw fail(`output "${output.name}" has ${outputWidth} columns, but there are ${classes.length} classes [${classes.join(', ')}]`);
  }
  messages.push(
    `${featuresOnly ? 'features-only model' : 'pipeline'}: ${featuresOnly ? `${fitted.featureNames.length} encoded features into "${io.inputName}"` : `${inputs.length} raw columns (${inputs.map((i) => `${i.name}: ${typeName(i)}`).join(', ')})`}; output "${output.name}" ${shapeText(output)}; classes ${classes.join(', ')}`,
  );

  const version = versionStamp(now, bytes);
  const bundle = createBundle(
    {
      schemaVersion: 1,
      name: options.name,
      version,
      created: now.toISOString(),
      description: options.description ?? `Imported from ${source} (${model.producerName || 'unknown producer'})`,
      task: binary ? 'binary' : 'multiclass',
      classes,
      ...(binary ? { positiveClass: classes[1]! } : {}),
      format: 'onnx',
      model: {
        file: 'model.onnx',
        inputName: io.inputName,
        outputName: output.name,
        output: positiveProbability ? 'positive-probability' : 'class-probabilities',
        ...(io.inputs ? { inputs: io.inputs } : {}),
      },
      featureSpec: fitted,
      economics: options.economics ?? IMPORT_ECONOMICS,
      metrics: {
        import: {
          source,
          shape: featuresOnly ? 'features-only' : 'pipeline',
          producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || null,
          removedZipMap: removedZipMap ? removedZipMap.node : null,
        },
      },
      notes: [
        `Imported by propensity import from ${source} on ${now.toISOString().slice(0, 10)}: no training metrics; run propensity baseline on a sample to enable drift checks.`,
        ...(options.economics ? [] : ['Economics are placeholders (economics.placeholder): set real figures before acting on the ROI.']),
        ...messages,
      ],
    },
    new Map([['model.onnx', bytes]]),
  );
  return { bundle, shape: featuresOnly ? 'features-only' : 'pipeline', removedZipMap: removedZipMap && { node: removedZipMap.node, output: removedZipMap.output, servedInstead: removedZipMap.servedInstead }, messages };
}

const defaultClasses = (width: number | null) => Array.from({ length: width === null || width <= 1 ? 2 : width }, (_, k) => String(k));

/**
 * Removes a ZipMap that produces a graph output and makes its input tensor the output instead
 * (float `[N, K]`, K from the ZipMap's class labels). Returns what it did, or null when there is none.
 */
function removeZipMap(graph: OnnxTypes.IGraphProto): { node: string; output: string; servedInstead: string; classes: string[] | undefined } | null {
  const outputs = graph.output ?? [];
  const index = (graph.node ?? []).findIndex((n) => n.opType === 'ZipMap' && outputs.some((o) => o.name === n.output?.[0]));
  if (index < 0) return null;
  const node = graph.node![index]!;
  const output = node.output![0]!;
  const servedInstead = node.input![0]!;
  const classes = classLabelsOf(node);
  graph.node!.splice(index, 1);
  const at = outputs.findIndex((o) => o.name === output);
  outputs[at] = {
    name: servedInstead,
    type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...(classes ? [{ dimValue: classes.length }] : [{ dimParam: 'K' }])] } } },
  };
  // Another output of the same tensor would now be listed twice.
  graph.output = outputs.filter((o, i) => outputs.findIndex((p) => p.name === o.name) === i);
  return { node: node.name || `ZipMap#${index}`, output, servedInstead, classes };
}

/** The probabilities output: the only float tensor output, else one named like probabilities. */
function chooseOutput(graph: OnnxTypes.IGraphProto, fail: (message: string) => Error): GraphValue {
  const outputs = (graph.output ?? []).map(describeValue);
  const floats = outputs.filter((o) => o.elemType === T.FLOAT);
  if (floats.length === 1) return floats[0]!;
  const named = floats.find((o) => /^(probabilities|probability|output_probability|probs?)$/i.test(o.name));
  if (named) return named;
  throw fail(
    floats.length === 0
      ? `no float tensor output to serve (outputs: ${outputs.map((o) => `${o.name} ${typeName(o)}`).join(', ')})`
      : `several float outputs (${floats.map((o) => o.name).join(', ')}) and none is named "probabilities"`,
  );
}

interface ModelIo {
  readonly inputName: string;
  readonly inputs?: Array<{ name: string; column: string; type: 'float32' | 'float64' | 'string' }>;
}

/** Whole-pipeline shape: one feature column per graph input, read from the extract by the input's name. */
function pipelineSpec(options: ImportOnnxOptions, inputs: readonly GraphValue[], graph: OnnxTypes.IGraphProto, fail: (message: string) => Error, now: Date): { fitted: FittedSpec; io: ModelIo } {
  const io: NonNullable<ModelIo['inputs']> = [];
  const columns: Array<Record<string, unknown>> = [];
  for (const input of inputs) {
    const dims = input.dims;
    if (dims && !(dims.length === 1 || (dims.length === 2 && (dims[1] === 1 || dims[1] === null)))) {
      throw fail(`input "${input.name}" has shape ${shapeText(input)}: a pipeline input must be one column, [N, 1] (a wider input needs a features-only import with --spec)`);
    }
    if (input.elemType === T.STRING) {
      io.push({ name: input.name, column: input.name, type: 'string' });
      columns.push({ name: input.name, role: 'feature', type: 'categorical', feed: 'string', missing: 'pandas', trim: false });
    } else if (input.elemType === T.FLOAT || input.elemType === T.DOUBLE) {
      io.push({ name: input.name, column: input.name, type: input.elemType === T.FLOAT ? 'float32' : 'float64' });
      columns.push({ name: input.name, role: 'feature', type: 'numeric', scale: 'none', impute: { strategy: 'nan' }, missing: 'pandas' });
    } else {
      throw fail(`input "${input.name}" is ${typeName(input)}: a pipeline input must be float, double or string`);
    }
  }
  if (options.idColumn !== undefined) {
    if (inputs.some((i) => i.name === options.idColumn)) throw fail(`--id "${options.idColumn}" is also a model input`);
    columns.unshift({ name: options.idColumn, role: 'id', type: 'categorical' });
  }
  const spec = parseFeatureSpec({ columns }, `${options.source} (derived spec)`);
  const fittedColumns: FittedSpec['columns'] = {};
  for (const column of spec.columns) {
    if (column.role !== 'feature') continue;
    fittedColumns[column.name] =
      column.type === 'numeric'
        ? { kind: 'numeric', fill: 0, clipLower: null, clipUpper: null, shift: 0, scale: 1, missingRate: 0 }
        : { kind: 'categorical', vocabulary: [...graphCategories(graph, column.name), OTHER_CATEGORY], otherIndex: -1, fillIndex: null, missingRate: 0 };
  }
  for (const fit of Object.values(fittedColumns)) if (fit.kind === 'categorical') fit.otherIndex = fit.vocabulary.length - 1;
  const fitted: FittedSpec = {
    spec,
    fittedAt: now.toISOString(),
    trainingRows: 0,
    columns: fittedColumns,
    featureNames: slotNames(spec, fittedColumns),
  };
  const textNames = textSlotNames(spec);
  if (textNames.length > 0) fitted.textNames = textNames;
  return { fitted: parseFittedSpec(fitted, `${options.source} (derived spec)`), io: { inputName: inputs[0]!.name, inputs: io } };
}


/**
 * The categories the graph knows for a string input, for the drift profile: those of a
 * OneHotEncoder, LabelEncoder or CategoryMapper that reads the input directly; none otherwise.
 */
function graphCategories(graph: OnnxTypes.IGraphProto, input: string): string[] {
  const decode = (values: Uint8Array[] | null | undefined) => (values ?? []).map((s) => new TextDecoder().decode(s));
  for (const node of graph.node ?? []) {
    if (node.input?.[0] !== input) continue;
    const key = node.opType === 'OneHotEncoder' ? 'cats_strings' : node.opType === 'LabelEncoder' ? 'keys_strings' : node.opType === 'CategoryMapper' ? 'cats_strings' : null;
    if (key === null) continue;
    const categories = [...new Set(decode(attribute(node, key)?.strings))].filter((c) => c !== OTHER_CATEGORY);
    if (categories.length > 0) return categories;
  }
  return [];
}

/** Features-only shape: the given fitted spec, checked, whose slots fill the graph's one float input. */
function featuresOnlySpec(options: ImportOnnxOptions, inputs: readonly GraphValue[], fail: (message: string) => Error, now: Date): { fitted: FittedSpec; io: ModelIo } {
  const specSource = options.specSource ?? 'spec';
  if (inputs.length !== 1) throw fail(`a features-only model takes one input, this one takes ${inputs.length} (${inputs.map((i) => i.name).join(', ')}); without --spec it is imported as a pipeline`);
  const input = inputs[0]!;
  if (input.elemType !== T.FLOAT || !input.dims || input.dims.length !== 2) {
    throw fail(`input "${input.name}" is ${typeName(input)} ${shapeText(input)}: a features-only model takes float [N, width]`);
  }
  const raw = options.spec;
  const value = raw && typeof raw === 'object' && !Array.isArray(raw) ? { fittedAt: now.toISOString(), trainingRows: 0, ...(raw as Record<string, unknown>) } : raw;
  const fitted = parseFittedSpec(value, specSource);
  const problem = fittedSpecProblem(fitted);
  if (problem) throw new BundleError('BUNDLE_INVALID', `${specSource}: ${problem.field.replace(/^featureSpec\./, '')} ${problem.message}`, { bundle: options.source });
  if ((fitted.textNames ?? []).length > 0) throw fail(`${specSource} feeds columns as strings (feed: "string"): a features-only model takes numbers only`);
  const width = input.dims[1];
  if (width !== null && width !== fitted.featureNames.length) {
    throw fail(`${specSource} encodes ${fitted.featureNames.length} slots, the model's input "${input.name}" takes ${width}`);
  }
  return { fitted, io: { inputName: input.name } };
}
