/**
 * Names that several parts of the system must agree on: the functions, the CLI, the demo and the
 * infrastructure import them from here (infra too: this module pulls in nothing), so no copy can drift.
 */

/** CloudWatch namespace of every Propensity metric: the score function's and the drift check's. */
export const METRICS_NAMESPACE = 'Propensity';

/**
 * Folder of the bundled models: `model-store/` in the repository, and `<asset>/model-store/` beside
 * the built handler in a Lambda asset.
 */
export const BUNDLED_MODELS_DIRNAME = 'model-store';

/** How far back a scored extract may be for late labels to be joined to it (realized performance, retraining). */
export const LABEL_JOIN_WINDOW_DAYS = 120;

/**
 * Where the contact policy lives in the data bucket by default: suppression lists (`<suppression>*.csv`,
 * `<suppression><model>/*.csv`) and the contact history (`<history><model>/<run-id>.csv`).
 */
export const DEFAULT_CONTACT_POLICY_PREFIXES = { suppression: 'suppression/', history: 'history/' } as const;

/** Milliseconds in a day, for look-back windows and label ages. */
export const DAY_MS = 24 * 3600 * 1000;

/**
 * The worker-thread entry of a multi-part run in a Lambda asset: esbuild writes it beside the
 * handler (`index.mjs`), and `scoreInParts` starts its workers from it.
 */
export const PART_WORKER_FILE = 'scorePartWorker.mjs';
