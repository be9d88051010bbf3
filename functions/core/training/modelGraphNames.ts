/** Names of the ONNX graph's input and output in every trained bundle. */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUT_NAME = { binary: 'probability', multiclass: 'probabilities' } as const;

/** The output name of a model over these classes. */
export function modelOutputName(classes: readonly string[]): (typeof MODEL_OUTPUT_NAME)[keyof typeof MODEL_OUTPUT_NAME] {
  return classes.length === 2 ? MODEL_OUTPUT_NAME.binary : MODEL_OUTPUT_NAME.multiclass;
}
