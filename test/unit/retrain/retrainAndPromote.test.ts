import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRegistry } from '../../../functions/adapters/fs/fsRegistry.js';
import { ConfigError, TrainingError } from '../../../functions/core/errors.js';
import { promoteVersion, rollbackChampion } from '../../../functions/core/retrain/championControl.js';
import { evaluateOnHoldout, type LabelledHoldout } from '../../../functions/core/retrain/evaluateOnHoldout.js';
import { retrainAndPromote, type CandidateBundle, type PromotionRecordInManifest, type RetrainOutcome } from '../../../functions/core/retrain/retrainAndPromote.js';
import { parseRetrainPolicy, shouldRetrain } from '../../../functions/core/retrain/retrainPolicy.js';
import { train } from '../../../functions/core/training/train.js';
import { loadBankFixture, type BankFixture, type Row } from '../drift/bankMarketingFixture.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import { tfjsTrainingRuntime } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';

/**
 * Champion/challenger on the real bank-marketing data with the real trainer and the filesystem
 * registry: v1 (an old model trained on 2,000 rows) is the first champion; v2, trained on 20,000
 * newer rows, beats it on the recent holdout and is promoted; v3, trained on the same rows with
 * scrambled labels, is refused.
 */

const SPEC_FILE = new URL('../../../model-store/bank-marketing/spec.json', import.meta.url);

/** Deterministic permutation of the outcome column: the rows keep their features, the labels lose their meaning. */
function scrambleLabels(header: readonly string[], rows: readonly Row[]): Row[] {
  const y = header.indexOf('y');
  const labels = rows.map((r) => r[y]!);
  let state = 12345;
  for (let i = labels.length - 1; i > 0; i--) {
    state = (state * 16807) % 2147483647;
    const j = state % (i + 1);
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  return rows.map((r, i) => r.map((cell, c) => (c === y ? labels[i]! : cell)));
}

describe('retrainAndPromote on bank-marketing', () => {
  let fixture: BankFixture;
  let root: string;
  let registry: FsRegistry;
  let holdout: LabelledHoldout;
  let spec: unknown;
  const outcomes: Record<string, RetrainOutcome> = {};
  const bundles: Record<string, CandidateBundle> = {};
  const policy = parseRetrainPolicy({ minNewLabels: 10_000, metric: 'auc', minAucGain: 0.01, maxEceIncrease: 0.01 });

  const trainer = (version: string, epochs: number) => async (rows: Row[]) => {
    const result = await train({
      runtime: tfjsTrainingRuntime,
      data: { source: `labels for ${version}`, header: fixture.header, records: rows },
      spec,
      // One model per version (folds 1): the loop is the point here, and it stays quick.
      overrides: { search: false, training: { epochs, folds: 1 } },
      version,
      now: new Date('2026-11-01T00:00:00Z'),
    });
    bundles[version] = result.bundle;
    return result.bundle;
  };
  const evaluate = (bundle: CandidateBundle, rows: LabelledHoldout) => evaluateOnHoldout(bundle, rows, { loadModel });
  const retrain = (version: string, rows: Row[], epochs: number) =>
    retrainAndPromote({
      registry,
      name: 'bank-marketing',
      policy,
      data: rows,
      holdout,
      holdoutDescription: `recent labelled customers (${holdout.records.length} rows)`,
      trainChallenger: trainer(version, epochs),
      evaluate,
      now: new Date('2026-11-24T06:00:00Z'),
    });

  beforeAll(async () => {
    fixture = await loadBankFixture();
    spec = JSON.parse(await readFile(SPEC_FILE, 'utf8'));
    root = await mkdtemp(path.join(tmpdir(), 'propensity-retrain-'));
    registry = new FsRegistry(root);
    holdout = { source: 'holdout', header: fixture.header, records: fixture.holdout };
    const older = fixture.train.slice(0, 2000);
    const newer = fixture.train.slice(2000, 22_000);

    outcomes.v1 = await retrain('v1', older, 2);
    expect(shouldRetrain({ newLabels: newer.length, alarmFiring: true }, policy).retrain).toBe(true);
    outcomes.v2 = await retrain('v2', newer, 4);
    outcomes.v3 = await retrain('v3', scrambleLabels(fixture.header, newer), 4);
  }, 240_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('promotes the first model of a name', () => {
    expect(outcomes.v1).toMatchObject({ promoted: true, previousChampion: null, champion: 'v1' });
    expect(outcomes.v1!.decision.reason).toMatch(/^no champion yet; challenger AUC 0\.\d{4}$/);
  });

  it('promotes a challenger that beats the champion on the same holdout', () => {
    const { decision, evaluations } = outcomes.v2!;
    expect(outcomes.v2).toMatchObject({ promoted: true, previousChampion: 'v1', champion: 'v2' });
    expect(evaluations.champion!.rows).toBe(evaluations.challenger.rows);
    expect(evaluations.challenger.auc - evaluations.champion!.auc).toBeGreaterThanOrEqual(0.01);
    expect(evaluations.challenger.ece - evaluations.champion!.ece).toBeLessThanOrEqual(0.01);
    expect(decision.reason).toMatch(/^better: AUC 0\.\d{4} vs 0\.\d{4} \(gain 0\.\d{4}, needed 0\.0100\); ECE /);
  });

  it('refuses a challenger trained on scrambled labels', () => {
    const { decision, evaluations } = outcomes.v3!;
    expect(outcomes.v3).toMatchObject({ promoted: false, previousChampion: 'v2', champion: 'v2' });
    expect(evaluations.challenger.auc).toBeLessThan(0.6);
    expect(evaluations.champion!.auc).toBeGreaterThan(0.7);
    expect(decision.reason).toMatch(/^refused: AUC 0\.\d{4} vs 0\.\d{4} \(gain -0\.\d{4}, needed 0\.0100\)$/);
  });

  it('keeps every version with its evaluation, and the history of promotions', async () => {
    expect((await registry.listVersions('bank-marketing')).map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
    expect(await registry.champion('bank-marketing')).toBe('v2');
    const history = await registry.history('bank-marketing');
    expect(history.map((h) => [h.version, h.previous ?? null])).toEqual([
      ['v1', null],
      ['v2', 'v1'],
    ]);
    expect(history[1]!.reason).toBe(`retrained: ${outcomes.v2!.decision.reason}`);

    const v3 = (await registry.read('bank-marketing', 'v3')).manifest.metrics.promotion as PromotionRecordInManifest;
    expect(v3).toEqual({
      evaluatedAt: '2026-11-24T06:00:00.000Z',
      holdout: `recent labelled customers (${fixture.holdout.length} rows)`,
      challenger: outcomes.v3!.evaluations.challenger,
      champion: { version: 'v2', evaluation: outcomes.v3!.evaluations.champion },
      decision: outcomes.v3!.decision,
    });
  });

  it('rolls back step by step, and promotes by hand', async () => {
    expect(await rollbackChampion(registry, 'bank-marketing', 'complaints about the new list')).toBe('v1');
    expect(await registry.champion('bank-marketing')).toBe('v1');
    let error: ConfigError | undefined;
    try {
      await rollbackChampion(registry, 'bank-marketing', 'again');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'USAGE', key: 'bank-marketing' });
    expect(error?.message).toBe('rollback: bank-marketing: no earlier champion to roll back to (only v1 was ever promoted)');

    await promoteVersion(registry, 'bank-marketing', 'v2', 'checked the list by hand');
    expect(await registry.champion('bank-marketing')).toBe('v2');
    const reasons = (await registry.history('bank-marketing')).map((h) => h.reason);
    expect(reasons.slice(2)).toEqual(['rollback: complaints about the new list (from v2)', 'manual: checked the list by hand']);
  });

  it('refuses a challenger of another model or with a version already in the registry', async () => {
    const run = (bundle: CandidateBundle) =>
      retrainAndPromote({
        registry,
        name: 'bank-marketing',
        policy,
        data: null,
        holdout,
        holdoutDescription: 'holdout',
        trainChallenger: () => Promise.resolve(bundle),
        evaluate,
      });
    const reused = await run(bundles.v1!).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(TrainingError);
    expect(reused).toMatchObject({ code: 'TRAINING_FAILED', message: 'version v1 of "bank-marketing" is already in the registry; a challenger needs a new version' });
    const renamed = { ...bundles.v1!, manifest: { ...bundles.v1!.manifest, name: 'card-offer' } };
    await expect(run(renamed)).rejects.toMatchObject({ code: 'TRAINING_FAILED', message: 'the challenger is a "card-offer" model, not "bank-marketing"' });
  });
});
