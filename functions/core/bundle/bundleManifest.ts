import { z } from 'zod';
import { fittedSpecSchema } from '../spec/featureSpec.js';
import { campaignEconomicsSchema } from '../economics/campaignEconomics.js';
import { isBundleFilePath, isVersionName, MODEL_NAME_PATTERN } from './bundleNames.js';

/**
 * `manifest.json` of a model bundle: everything needed to score an extract exactly as the model
 * saw its training data, and the evidence of how good the model is.
 */
export const MANIFEST_FILE = 'manifest.json';

export const bundleManifestSchema = z
  .object({
    schemaVersion: z.literal(1),
    /** Model name, e.g. `bank-marketing`. Also the `incoming/<model>/` prefix. */
    name: z.string().regex(MODEL_NAME_PATTERN, 'lower-case letters, digits and dashes'),
    /** Version, sortable (e.g. `2026-11-23T0912-ab12cd`); a plain folder name (see `bundleNames.ts`). */
    version: z.string().refine(isVersionName, 'letters, digits, ".", "_" and "-", starting with a letter or digit, no ".."'),
    created: z.string(),
    description: z.string().optional(),
    task: z.enum(['binary', 'multiclass']),
    /** Class labels in model output order. Binary: [negative, positive]. */
    classes: z.array(z.string()).min(2),
    /** Binary: the label whose probability the model outputs. */
    positiveClass: z.string().optional(),
    format: z.enum(['onnx', 'tfjs']),
    model: z
      .object({
        /** Path inside the bundle of the file that scoring loads (`model.onnx`, or `tfjs/model.json`). */
        file: z.string(),
        inputName: z.string(),
        outputName: z.string(),
        /** What the output holds: P(positive) as one column, or one probability per class. */
        output: z.enum(['positive-probability', 'class-probabilities']),
        /**
         * A model that takes raw columns (an imported scikit-learn pipeline): one `[N, 1]` graph input
         * per feature column, fed by column name instead of `inputName` (a number column from its
         * `featureNames` slot, a `string` one from its `textNames` slot).
         */
        inputs: z
          .array(z.object({ name: z.string().min(1), column: z.string().min(1), type: z.enum(['float32', 'float64', 'string']) }).strict())
          .min(1)
          .optional(),
        /** Other formats kept for retraining or parity checks (e.g. the tfjs model beside the ONNX file). */
        extraFiles: z.array(z.string()).default([]),
      })
      .strict(),
    /** The fitted feature spec, stored inline so the manifest alone describes the preparation. */
    featureSpec: fittedSpecSchema,
    economics: campaignEconomicsSchema,
    /** Multiclass: recommended action per class (e.g. segment A → "discounts and affordability"). */
    actions: z.record(z.string(), z.string()).optional(),
    /** Default decision threshold (maximizes expected profit under the default economics). */
    threshold: z.number().min(0).max(1).optional(),
    /** Training metrics, evaluation, calibration notes: free-form but JSON. */
    metrics: z.record(z.string(), z.unknown()).default({}),
    /** Drift baseline (per-feature distributions, score distribution), written at training time. */
    baseline: z.unknown().optional(),
    notes: z.array(z.string()).default([]),
    /** What the training could not use and a reader should know (e.g. a column missing in every training row). */
    warnings: z.array(z.string()).optional(),
    /** sha256 (hex) of every file in the bundle except the manifest itself. */
    files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.task === 'binary' && m.classes.length !== 2) ctx.addIssue({ code: 'custom', path: ['classes'], message: 'binary needs exactly 2 classes' });
    if (m.positiveClass !== undefined && !m.classes.includes(m.positiveClass)) {
      ctx.addIssue({ code: 'custom', path: ['positiveClass'], message: `"${m.positiveClass}" is not one of the classes` });
    }
    for (const path of Object.keys(m.files)) {
      // Every listed path is joined under the bundle folder (or key prefix) by a reader: none may leave it.
      if (!isBundleFilePath(path) || path === MANIFEST_FILE) ctx.addIssue({ code: 'custom', path: ['files', path], message: 'not a relative path inside the bundle' });
    }
    if (!(m.model.file in m.files)) ctx.addIssue({ code: 'custom', path: ['model', 'file'], message: 'model file has no hash in files' });
    for (const [i, input] of (m.model.inputs ?? []).entries()) {
      const names = input.type === 'string' ? (m.featureSpec.textNames ?? []) : m.featureSpec.featureNames;
      if (!names.includes(input.column)) {
        ctx.addIssue({ code: 'custom', path: ['model', 'inputs', i, 'column'], message: `"${input.column}" is not a ${input.type === 'string' ? 'text' : 'number'} slot of the feature spec` });
      }
    }
  });

export type BundleManifest = z.infer<typeof bundleManifestSchema>;
export type BundleManifestInput = z.input<typeof bundleManifestSchema>;
