import type { BundleManifest } from '../bundle/bundleManifest.js';
import type { ModelRegistry, RegistryEntry } from '../bundle/registry.js';
import { TrainingError } from '../errors.js';
import { compareChallenger, type ModelEvaluation, type PromotionDecision, type RetrainPolicy } from './retrainPolicy.js';

/** A bundle in memory, as the trainer returns it and the registry writes it. */
export interface CandidateBundle {
  readonly manifest: BundleManifest;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface RetrainArgs<TData, THoldout> {
  readonly registry: ModelRegistry;
  /** Model name (the registry folder, `incoming/<model>/`). */
  readonly name: string;
  readonly policy: RetrainPolicy;
  /** Labelled rows the challenger is trained on. */
  readonly data: TData;
  /** Recent labelled rows neither model was trained on: both are judged on these. */
  readonly holdout: THoldout;
  /** Words for the record, e.g. `labels/bank-marketing/2026-11-*.csv (9,042 rows)`. */
  readonly holdoutDescription: string;
  readonly trainChallenger: (data: TData) => Promise<CandidateBundle>;
  readonly evaluate: (bundle: CandidateBundle, holdout: THoldout) => Promise<ModelEvaluation>;
  readonly now?: Date;
  readonly log?: (line: string) => void;
}

/** What `manifest.metrics.promotion` of every retrained version records. */
export interface PromotionRecordInManifest {
  readonly evaluatedAt: string;
  readonly holdout: string;
  readonly challenger: ModelEvaluation;
  readonly champion: { readonly version: string; readonly evaluation: ModelEvaluation } | null;
  readonly decision: PromotionDecision;
}

export interface RetrainOutcome {
  readonly challenger: RegistryEntry;
  /** The champion before this run (null for a model's first version). */
  readonly previousChampion: string | null;
  readonly promoted: boolean;
  /** The champion after this run. */
  readonly champion: string;
  readonly decision: PromotionDecision;
  readonly evaluations: { readonly challenger: ModelEvaluation; readonly champion: ModelEvaluation | null };
}

/**
 * Champion/challenger retraining: trains a challenger on `data`, evaluates it and the current
 * champion on the same recent `holdout`, writes the challenger to the registry with both
 * evaluations and the decision in `metrics.promotion` (every version is kept, promoted or not),
 * and promotes it only if {@link compareChallenger} says it is better by the policy's margin and
 * not worse on calibration.
 *
 * @throws TrainingError when the challenger is for another model or reuses an existing version.
 * @example
 * const outcome = await retrainAndPromote({ registry, name: 'bank-marketing', policy, data, holdout,
 *   holdoutDescription: 'labels of November', trainChallenger: (d) => train({ data: d, spec }).then((r) => r.bundle),
 *   evaluate: (b, h) => evaluateOnHoldout(b, h) });
 */
export async function retrainAndPromote<TData, THoldout>(args: RetrainArgs<TData, THoldout>): Promise<RetrainOutcome> {
  const { registry, name, policy } = args;
  const log = args.log ?? (() => {});
  const now = args.now ?? new Date();

  const championVersion = (await registry.champion(name)) ?? null;
  const challengerBundle = await args.trainChallenger(args.data);
  const { manifest } = challengerBundle;
  if (manifest.name !== name) {
    throw new TrainingError(`the challenger is a "${manifest.name}" model, not "${name}"`, { isInputError: false });
  }
  if ((await registry.listVersions(name)).some((v) => v.version === manifest.version)) {
    throw new TrainingError(`version ${manifest.version} of "${name}" is already in the registry; a challenger needs a new version`, {
      isInputError: false,
    });
  }
  log(`trained challenger ${name}@${manifest.version}`);

  const challengerEvaluation = await args.evaluate(challengerBundle, args.holdout);
  let championEvaluation: ModelEvaluation | null = null;
  if (championVersion) {
    const champion = await registry.read(name, championVersion);
    championEvaluation = await args.evaluate({ manifest: champion.manifest, files: champion.files }, args.holdout);
  }
  const decision = compareChallenger(championEvaluation, challengerEvaluation, policy);
  log(`${name}@${manifest.version} vs ${championVersion ?? 'no champion'}: ${decision.reason}`);

  const promotion: PromotionRecordInManifest = {
    evaluatedAt: now.toISOString(),
    holdout: args.holdoutDescription,
    challenger: challengerEvaluation,
    champion: championVersion && championEvaluation ? { version: championVersion, evaluation: championEvaluation } : null,
    decision,
  };
  const recorded: CandidateBundle = {
    manifest: { ...manifest, metrics: { ...manifest.metrics, promotion } },
    files: challengerBundle.files,
  };
  const entry = await registry.write(recorded);
  if (decision.promote) await registry.promote(name, entry.version, `retrained: ${decision.reason}`);

  return {
    challenger: entry,
    previousChampion: championVersion,
    promoted: decision.promote,
    champion: decision.promote ? entry.version : championVersion!,
    decision,
    evaluations: { challenger: challengerEvaluation, champion: championEvaluation },
  };
}
