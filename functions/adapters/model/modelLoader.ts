import type { ModelLoader } from '../../core/model/scoringModel.js';
import { loadOnnxModel } from './onnxModel.js';

/**
 * The model loader every entry point passes to the core: ONNX bundles through onnxruntime-node,
 * tfjs bundles through tfjs. tfjs is imported only for tfjs bundles: it costs ~1 s of cold start
 * that ONNX bundles should not pay.
 */
export const loadModel: ModelLoader = async (request, context) => {
  const { inputWidth, outputWidth } = request;
  if (request.format === 'onnx') {
    const bytes = request.files.get(request.file) ?? new Uint8Array();
    if (request.columnInputs) {
      const { loadOnnxColumnsModel } = await import('./onnxColumnsModel.js');
      const io = { columnInputs: request.columnInputs, textWidth: request.textWidth ?? 0, outputName: request.outputName, inputWidth, outputWidth };
      return loadOnnxColumnsModel(bytes, io, context, request.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: request.intraOpNumThreads });
    }
    const io = { inputName: request.inputName, outputName: request.outputName, inputWidth, outputWidth, ...(request.sequence ? { sequence: request.sequence } : {}) };
    return loadOnnxModel(bytes, io, context, request.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: request.intraOpNumThreads });
  }
  const { loadTfjsModel } = await import('./tfjsModel.js');
  return loadTfjsModel(request.files, request.file, { inputWidth, outputWidth }, context);
};
