import { describe, expect, it } from 'vitest';
import { BATCH_DIM, decodeOnnxModel, OnnxGraphBuilder } from '../../../functions/core/model/onnxGraph.js';
import { loadOnnxModel } from '../../../functions/adapters/model/onnxModel.js';

describe('OnnxGraphBuilder', () => {
  it('encodes float32 and int64 initializers little-endian, typed attributes, a symbolic batch dim, opset 13, IR 8', () => {
    // Prepare
    const g = new OnnxGraphBuilder({ name: 'tiny', metadata: { purpose: 'test' } });
    g.addInput('x', [BATCH_DIM, 2]);
    const w = g.addInitializer('w', [1.5, -2], [2, 1]);
    const shape = g.addInt64Initializer('shape', [0, 1]);
    const z = g.addNode('Gemm', ['x', w], undefined, { alpha: { float: 2 }, transB: { int: 0 } });
    g.addNode('Reshape', [z, shape], ['y']);
    g.addOutput('y', [BATCH_DIM, 1]);
    // Act
    const proto = decodeOnnxModel(g.toBytes());
    // Assess
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(proto.metadataProps.map((p) => [p.key, p.value])).toEqual([['purpose', 'test']]);
    const graph = proto.graph!;
    const [wTensor, shapeTensor] = graph.initializer!;
    expect(Array.from(new Float32Array(Uint8Array.from(wTensor!.rawData!).buffer))).toEqual([1.5, -2]);
    expect(Array.from(new BigInt64Array(Uint8Array.from(shapeTensor!.rawData!).buffer))).toEqual([0n, 1n]);
    expect(graph.node!.map((n) => n.opType)).toEqual(['Gemm', 'Reshape']);
    expect(graph.node![0]!.attribute!.map((a) => [a.name, a.type, a.f || Number(a.i)])).toEqual([
      ['alpha', 1, 2], // FLOAT
      ['transB', 2, 0], // INT
    ]);
    expect(graph.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 2]);
  });

  it('builds a graph onnxruntime runs', async () => {
    const g = new OnnxGraphBuilder();
    g.addInput('x', [BATCH_DIM, 2]);
    g.addOutput('y', [BATCH_DIM, 2]);
    g.addNode('Mul', ['x', g.addInitializer('scale', [2, -3], [2])], ['y']);
    const model = await loadOnnxModel(g.toBytes(), { inputName: 'x', outputName: 'y', inputWidth: 2, outputWidth: 2 }, { bundle: 'b', version: '1' });
    expect(Array.from(await model.score(Float32Array.of(1, 1, 0.5, -2), 2))).toEqual([2, -3, 1, 6]);
    await model.dispose();
  });

  it('gives generated names that never clash, and refuses an explicit name used twice', () => {
    const g = new OnnxGraphBuilder();
    expect([g.uniqueName('t'), g.uniqueName('t'), g.uniqueName('t')]).toEqual(['t', 't_1', 't_2']);
    g.addInput('x', [BATCH_DIM, 1]);
    expect(() => g.addNode('Relu', ['x'], ['x'])).toThrow('ONNX graph: name "x" is already used');
  });

  it('refuses an initializer whose values do not fill its dims', () => {
    expect(() => new OnnxGraphBuilder().addInitializer('w', [1, 2, 3], [2, 2])).toThrow('ONNX initializer "w": 3 values do not fill dims [2, 2]');
  });
});
