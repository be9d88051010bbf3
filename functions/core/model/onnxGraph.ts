/**
 * A small typed builder for ONNX models over onnx-proto 8.
 *
 * Enough for what Propensity writes: float32 and int64 initializers, nodes with typed attributes,
 * float32 graph inputs/outputs whose first dimension is the symbolic `batch`. Models are stamped
 * irVersion 8, opset 13 (the default domain), which onnxruntime-node 1.30 loads from the bytes.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS: the namespace only exists on the default export.
const { onnx } = pkg;

/** IR version and default-domain opset stamped on every model this builder writes. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

/** The symbolic name of the batch dimension on graph inputs and outputs. */
export const BATCH_DIM = 'batch';

/** A dimension of a graph input/output: a fixed size, or the symbolic batch. */
export type OnnxDim = number | typeof BATCH_DIM;

/**
 * A node attribute, typed explicitly: ONNX checks attribute types, and a JS number cannot say
 * whether `1` is an int or a float (e.g. Elu's `alpha` must be a float).
 */
export type OnnxAttribute =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

/** Options for {@link OnnxGraphBuilder}. */
export interface OnnxGraphOptions {
  /** Graph name. @default 'propensity' */
  readonly name?: string;
  /** @default 'propensity' */
  readonly producerName?: string;
  readonly docString?: string;
  /** Free-form key/values stored as model `metadata_props` (e.g. the original input shape). */
  readonly metadata?: Readonly<Record<string, string>>;
}

function float32LittleEndian(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

function int64LittleEndian(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i]!), true);
  return bytes;
}

function toAttributeProto(name: string, value: OnnxAttribute): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

function valueInfo(name: string, dims: readonly OnnxDim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (d === BATCH_DIM ? { dimParam: BATCH_DIM } : { dimValue: d })) },
      },
    },
  };
}

/**
 * Builds one ONNX graph and encodes it as a ModelProto.
 *
 * @example
 * const g = new OnnxGraphBuilder();
 * g.addInput('features', [BATCH_DIM, 3]);
 * const w = g.addInitializer('w', [0.5, -1, 2], [3, 1]);
 * const b = g.addInitializer('b', [0.1], [1]);
 * const z = g.addNode('Gemm', ['features', w, b]);
 * g.addNode('Sigmoid', [z], ['probability']);
 * g.addOutput('probability', [BATCH_DIM, 1]);
 * const bytes = g.toBytes();
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;

  constructor(private readonly options: OnnxGraphOptions = {}) {}

  /** A tensor/node name not used yet in this graph, derived from `prefix`. */
  uniqueName(prefix: string): string {
    let name = prefix;
    while (this.usedNames.has(name)) name = `${prefix}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`ONNX graph: name "${name}" is already used`);
    this.usedNames.add(name);
    return name;
  }

  /** Adds a float32 constant tensor (stored as little-endian raw data). Returns its (unique) name. */
  addInitializer(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    checkSize(name, values.length, dims);
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: float32LittleEndian(values) });
    return unique;
  }

  /** Adds an int64 constant tensor (shapes for Reshape, indices for Gather, …). Returns its name. */
  addInt64Initializer(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    checkSize(name, values.length, dims);
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dataType: onnx.TensorProto.DataType.INT64, dims: [...dims], rawData: int64LittleEndian(values) });
    return unique;
  }

  /**
   * Adds a node. Outputs default to one fresh name derived from the op type.
   * @returns the node's first output name, ready to feed the next node.
   */
  addNode(opType: string, inputs: readonly string[], outputs?: readonly string[], attributes: Readonly<Record<string, OnnxAttribute>> = {}): string {
    const outs = outputs ? outputs.map((o) => this.claimOrReuse(o)) : [this.uniqueName(opType.toLowerCase())];
    this.nodes.push({
      name: this.uniqueName(`${opType}_node`),
      opType,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => toAttributeProto(k, v)),
    });
    return outs[0]!;
  }

  // A graph output name is claimed by addOutput before or after the node that produces it.
  private claimOrReuse(name: string): string {
    if (this.outputs.some((o) => o.name === name)) return name;
    return this.claim(name);
  }

  /** Declares a float32 graph input, e.g. `addInput('features', [BATCH_DIM, 51])`. */
  addInput(name: string, dims: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(this.claim(name), dims));
    return name;
  }

  /** Declares a float32 graph output. The producing node must write a tensor with this name. */
  addOutput(name: string, dims: readonly OnnxDim[]): string {
    this.usedNames.add(name);
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /** The ModelProto as a plain object (for inspection in tests). */
  toModelProto(): OnnxTypes.IModelProto {
    return {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: this.options.producerName ?? 'propensity',
      docString: this.options.docString ?? '',
      metadataProps: Object.entries(this.options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.options.name ?? 'propensity',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  /** Encodes the model as ONNX protobuf bytes. */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto())).finish();
  }
}

function checkSize(name: string, length: number, dims: readonly number[]): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) throw new Error(`ONNX initializer "${name}": ${length} values do not fill dims [${dims.join(', ')}]`);
}

/** Decodes ONNX bytes back to a ModelProto (tests, and reading metadata a session does not expose). */
export function decodeOnnxModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
