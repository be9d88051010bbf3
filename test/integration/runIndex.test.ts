import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { readS3Csv } from '../../functions/adapters/s3/s3Csv.js';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { SUCCESS_FILE, type SuccessManifest } from '../../functions/adapters/s3/S3OutputTarget.js';
import { deleteKeys, listKeys, putObject, readObjectBytes } from '../../functions/adapters/s3/s3Objects.js';
import { joinOutcomes, realizedPerformance } from '../../functions/core/drift/realizedPerformance.js';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { runIndexKey } from '../../functions/core/runIndex/runIndex.js';
import { parseFeatureSpec } from '../../functions/core/spec/featureSpec.js';
import { realizedForRuns, type RealizedForRunsArgs, type RunRealized } from '../../functions/drift/realizedRuns.js';
import { gatherLabelledData } from '../../functions/retrain/labelledData.js';
import { ChampionBundles } from '../../functions/score/championBundles.js';
import { scoreS3Object, type ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { tinyBinaryBundle, tinySpec } from '../helpers/tinyBundle.js';
import { objectJson } from './support/s3Drops.js';

/**
 * The run index on the embedded S3: written by the score function right after a run commits, from
 * the tiny bundle's hand-computable probabilities (p = sigmoid(0.05·age + member − 2); economics
 * value 100, cost 40, so a customer is selected when p > 0.4); rewritten, never duplicated, on a
 * redelivery; and read by the realized step and the retraining's label join, with the run's own
 * files as the fallback.
 */

let s3: EmbeddedS3;
const MODEL = 'tiny';
const logs: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'run-index' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = await tinyBinaryBundle({ economics: { costPerContact: 40, valuePerResponse: 100, fixedCost: 0 } });
  await registry.write(champion);
  await registry.promote(MODEL, champion.manifest.version, 'run index tests');
});

afterAll(async () => {
  await s3?.stop();
});

async function score(key: string, body: string | undefined, indexPrefix = 'index/'): Promise<ScoreS3ObjectResult> {
  if (body !== undefined) await putObject(s3.client, s3.bucket, key, body, 'text/csv');
  return scoreS3Object({
    client: s3.client,
    bucket: s3.bucket,
    key,
    bundles: new ChampionBundles(new S3Registry(s3.client, s3.bucket)),
    config: { bucket: undefined, incomingPrefix: 'incoming/', outputsPrefix: 'outputs/', batchSize: 2, indexPrefix },
    spool: tempFileSpool(),
    log: (level, message, attributes) => logs.push({ level, message, attributes }),
  });
}

/** Runs `work` with the run's index removed (and the log emptied), then puts the index back. */
async function withIndexHidden(run: ScoreS3ObjectResult, work: () => Promise<void>): Promise<void> {
  const indexKey = await indexKeyOf(run);
  const index = await readObjectBytes(s3.client, s3.bucket, indexKey);
  await deleteKeys(s3.client, s3.bucket, [indexKey]);
  logs.length = 0;
  try {
    await work();
  } finally {
    await putObject(s3.client, s3.bucket, indexKey, index!);
  }
}

async function indexKeyOf(result: ScoreS3ObjectResult): Promise<string> {
  if (result.status !== 'scored' && result.status !== 'skipped') throw new Error(`not a run: ${result.status}`);
  const manifest = (await objectJson<SuccessManifest>(s3, `outputs/${MODEL}/${result.runId}/${SUCCESS_FILE}`))!;
  return runIndexKey('index/', MODEL, new Date(manifest.completedAt), result.runId);
}

async function indexText(key: string): Promise<string | undefined> {
  const bytes = await readObjectBytes(s3.client, s3.bucket, key);
  return bytes && gunzipSync(bytes).toString('utf8');
}

describe('the index written when a run commits', () => {
  const key = 'incoming/tiny/night-1.csv';
  const extract = 'customer_id,age,member\nc1,20,no\nc2,40,no\n"a,b",20,yes\nc4,30,no\nc5,60,no\n';
  // sigmoid(-1), sigmoid(0), sigmoid(0), sigmoid(-0.5), sigmoid(1) with 6 decimals; selected when p > 0.4, value 100.
  const expectedIndex = 'id,score,selected,value\nc1,0.268941,0,\nc2,0.500000,1,100\n"a,b",0.500000,1,100\nc4,0.377541,0,\nc5,0.731059,1,100\n';

  it('holds one row per scored customer with its score, selection and value, under index/<model>/<commit day>/<run id>.csv.gz', async () => {
    // Act
    const result = await score(key, extract);
    // Assess
    expect(result.status).toBe('scored');
    const indexKey = await indexKeyOf(result);
    expect(indexKey).toMatch(/^index\/tiny\/\d{4}-\d{2}-\d{2}\/night-1-[0-9a-f]{12}\.csv\.gz$/);
    expect(await indexText(indexKey)).toBe(expectedIndex);
    expect(logs.find((l) => l.message === 'run indexed')?.attributes).toMatchObject({ rows: 5, index: `s3://run-index/${indexKey}` });
  });

  it('is written once per run: a redelivery leaves the same single object, and rewrites it when it went missing', async () => {
    // Prepare
    const first = await indexKeyOf(await score(key, undefined));
    // Act: the same event again, then again after the index was lost.
    const again = await score(key, undefined);
    const keysAfterRedelivery = await listKeys(s3.client, s3.bucket, 'index/tiny/');
    await deleteKeys(s3.client, s3.bucket, [first]);
    const repaired = await score(key, undefined);
    // Assess
    expect(again.status).toBe('skipped');
    expect(repaired.status).toBe('skipped');
    expect(keysAfterRedelivery).toEqual([first]);
    expect(await listKeys(s3.client, s3.bucket, 'index/tiny/')).toEqual([first]);
    expect(await indexText(first)).toBe(expectedIndex);
  });

  it('does not fail or un-commit the run when it cannot be written: the run stays complete and a warning says so', async () => {
    // Prepare: a prefix S3 refuses as a key (a ".." segment).
    logs.length = 0;
    // Act
    const result = await score('incoming/tiny/night-unindexed.csv', extract, '../');
    // Assess
    expect(result.status).toBe('scored');
    if (result.status !== 'scored') return;
    expect(await objectJson(s3, `outputs/${MODEL}/${result.runId}/${SUCCESS_FILE}`)).toMatchObject({ runId: result.runId });
    const warning = logs.find((l) => l.message.startsWith('run index not written'));
    expect(warning?.level).toBe('warn');
    expect(JSON.stringify(warning)).not.toContain('a,b');
    expect(await listKeys(s3.client, s3.bucket, `index/tiny/`)).not.toContainEqual(expect.stringContaining(result.runId));
  });
});

describe('realized performance and the label join read the index', () => {
  /** 400 customers with ages 18–77 and membership alternating: a known mix of selected and not. */
  const customers = Array.from({ length: 400 }, (_, i) => ({ id: `k${String(i).padStart(4, '0')}`, age: 18 + ((i * 37) % 60), member: i % 3 === 0 ? 'yes' : 'no' }));
  const extract = `customer_id,age,member\n${customers.map((c) => `${c.id},${c.age},${c.member}`).join('\n')}\n`;
  // Every other customer of the first 300 has an outcome; one in three of those responded.
  const labelled = customers.slice(0, 300).filter((_, i) => i % 2 === 0);
  const outcomes = new Map(labelled.map((c, i) => [c.id, i % 3 === 0]));
  let run: Extract<ScoreS3ObjectResult, { status: 'scored' }>;

  /** What the realized step computed before the index, from the run's whole scores.csv and targets.csv. */
  async function realizedFromRunFiles(): Promise<RunRealized> {
    const folder = `outputs/${MODEL}/${run.runId}/`;
    const summary = (await objectJson<RunSummary>(s3, `${folder}summary.json`))!;
    const targets = await readS3Csv(s3.client, s3.bucket, `${folder}targets.csv`, ',');
    const targetValue = new Map(targets.records.map((r) => [r[0]!, Number(r[targets.header.indexOf('value')])]));
    const scores = await readS3Csv(s3.client, s3.bucket, `${folder}scores.csv`, ',');
    const probability = scores.header.indexOf('probability');
    const joined = joinOutcomes(
      outcomes,
      scores.records.map((r) => ({ id: r[0]!, probability: Number(r[probability]), selected: targetValue.has(r[0]!), value: targetValue.get(r[0]!) ?? 100 })),
    );
    return { run: folder, modelVersion: summary.model.version, labelled: joined.rows.length, unlabelled: joined.unlabelled, performance: realizedPerformance(joined.rows, summary.economics) };
  }

  /** The label file's upload times: after the fixture run commits (an outcome follows its contact), fixed for the cache. */
  const firstUpload = new Date(Date.now() + 3_600_000).toISOString();
  const secondUpload = new Date(Date.now() + 7_200_000).toISOString();

  function args(driftPrefix: string): RealizedForRunsArgs {
    return {
      client: s3.client,
      bucket: s3.bucket,
      model: MODEL,
      prefixes: { outputs: 'outputs/', index: 'index/', drift: driftPrefix },
      outputs: [],
      labelFiles: [{ key: 'labels/tiny/outcomes.csv', lastModified: firstUpload }],
      readLabels: () => Promise.resolve({ outcomes }),
      now: new Date(),
      spool: tempFileSpool(),
      log: (level, message, attributes = {}) => logs.push({ level, message, attributes }),
    };
  }

  function runOutputs(): RealizedForRunsArgs['outputs'] {
    return [{ key: `outputs/${MODEL}/${run.runId}/summary.json`, lastModified: new Date() }];
  }

  beforeAll(async () => {
    const result = await score('incoming/tiny/night-2.csv', extract);
    if (result.status !== 'scored') throw new Error('the fixture run was not scored');
    run = result;
  });

  it('gives the same figures from the index as from the run\'s scores.csv and targets.csv', async () => {
    // Prepare
    const expected = await realizedFromRunFiles();
    expect(expected.labelled).toBe(150);
    expect(expected.performance.selection.contacts).toBeGreaterThan(0);
    expect(expected.performance.selection.contacts).toBeLessThan(150);
    // Act
    const fromIndex = await realizedForRuns({ ...args('drift-a/'), outputs: runOutputs() });
    // Assess
    expect(fromIndex).toEqual([expected]);
    expect(fromIndex[0]!.unlabelled).toBe(250);
  });

  it('gives the same figures for a run without an index, from its own files, and says so in the log', async () => {
    // Prepare
    const expected = await realizedFromRunFiles();
    await withIndexHidden(run, async () => {
      // Act
      const fallback = await realizedForRuns({ ...args('drift-b/'), outputs: runOutputs() });
      // Assess
      expect(fallback).toEqual([expected]);
      expect(logs.map((l) => l.message)).toContain('run has no index: joining its scores.csv and targets.csv');
    });
  });

  it('does not read a run again while the label files stay the same, and does when they change', async () => {
    // Prepare: figures recorded for these label files (previous test's folder), then the run's index hidden.
    const expected = await realizedFromRunFiles();
    await withIndexHidden(run, async () => {
      // Act
      const cached = await realizedForRuns({ ...args('drift-a/'), outputs: runOutputs() });
      const changed = await realizedForRuns({ ...args('drift-a/'), labelFiles: [{ key: 'labels/tiny/outcomes.csv', lastModified: secondUpload }], outputs: runOutputs() });
      // Assess: the first read only the record, the second joined the run again.
      expect(cached).toEqual([expected]);
      expect(changed).toEqual([expected]);
      expect(logs.filter((l) => l.message.startsWith('run has no index'))).toHaveLength(1);
    });
  });

  describe('each outcome answers one run', () => {
    let later: Extract<ScoreS3ObjectResult, { status: 'scored' }>;
    const summaryKey = (r: { runId: string }) => `outputs/${MODEL}/${r.runId}/summary.json`;
    /** The two runs as the outputs listing shows them: the fixture run committed an hour before the later one. */
    const twoRuns = (base: number) => [
      { key: summaryKey(run), lastModified: new Date(base) },
      { key: summaryKey(later), lastModified: new Date(base + 3_600_000) },
    ];

    beforeAll(async () => {
      const result = await score('incoming/tiny/night-3.csv', extract);
      if (result.status !== 'scored') throw new Error('the second fixture run was not scored');
      later = result;
    });

    it('gives undated outcomes to the newest run before the file arrived, and reads no older run once all are claimed', async () => {
      // Prepare: both runs scored the same 400 customers; the file arrives after both.
      const base = Date.now() - 7_200_000;
      const expected = { ...(await realizedFromRunFiles()), run: `outputs/${MODEL}/${later.runId}/` };
      await withIndexHidden(run, async () => {
        // Act
        const realized = await realizedForRuns({ ...args('drift-c/'), outputs: twoRuns(base), labelFiles: [{ key: 'labels/tiny/a.csv', lastModified: new Date(base + 5_400_000).toISOString() }] });
        // Assess: the later run has every label (same scores, so the same figures); the older one was never opened.
        expect(realized).toEqual([expected]);
        expect(logs.map((l) => l.message)).not.toContain('run has no index: joining its scores.csv and targets.csv');
      });
    });

    it('gives them to the older run when the file arrived before the later run committed', async () => {
      // Prepare
      const base = Date.now() - 7_200_000;
      const expected = await realizedFromRunFiles();
      // Act
      const realized = await realizedForRuns({ ...args('drift-d/'), outputs: twoRuns(base), labelFiles: [{ key: 'labels/tiny/b.csv', lastModified: new Date(base + 1_800_000).toISOString() }] });
      // Assess
      expect(realized).toEqual([expected]);
    });

    it('gives dated outcomes to a run of their contact day only, and counts the rest as answering no run', async () => {
      // Prepare: half the labels dated the runs' commit day (their index partition), half a day with no run.
      const base = Date.now() - 7_200_000;
      const today = (await indexKeyOf(later)).split('/')[2]!;
      const ids = [...outcomes.keys()];
      const contactDay = new Map(ids.map((id, i) => [id, i % 2 === 0 ? today : '2020-01-01']));
      logs.length = 0;
      // Act: a file that arrived before either run, yet dated outcomes may answer a run of their day.
      const realized = await realizedForRuns({
        ...args('drift-e/'),
        outputs: twoRuns(base),
        labelFiles: [{ key: 'labels/tiny/c.csv', lastModified: new Date(base - 60_000).toISOString() }],
        readLabels: () => Promise.resolve({ outcomes, contactDay }),
      });
      // Assess
      expect(realized.map((r) => [r.run, r.labelled, r.unlabelled])).toEqual([[`outputs/${MODEL}/${later.runId}/`, 75, 325]]);
      expect(logs.find((l) => l.message === 'outcomes answer no run of the window')?.attributes).toMatchObject({ unmatched: 75 });
    });
  });

  it('joins labels for retraining through the index, into a stratified sample of bounded size, the same every time', async () => {
    // Prepare
    const labels = `customer_id,outcome\n${labelled.map((c) => `${c.id},${outcomes.get(c.id) ? 'yes' : 'no'}`).join('\n')}\n`;
    await putObject(s3.client, s3.bucket, 'labels/tiny/outcomes.csv', labels);
    const gather = () =>
      gatherLabelledData({
        client: s3.client,
        bucket: s3.bucket,
        model: MODEL,
        spec: parseFeatureSpec(tinySpec),
        positiveClass: 'yes',
        negativeClass: 'no',
        trainingKeys: [],
        labelKeys: ['labels/tiny/outcomes.csv'],
        outputs: [{ key: `outputs/${MODEL}/${run.runId}/summary.json`, lastModified: new Date() }],
        prefixes: { outputs: 'outputs/', index: 'index/' },
        now: new Date(),
        spool: tempFileSpool(),
        maxRows: 60,
      });
    // Act
    const data = await gather();
    const again = await gather();
    // Assess: 150 labelled rows, 50 responders → 60 sampled, 20 of them responders.
    expect(data.labelledRows).toBe(150);
    expect(data.byClass).toEqual({ no: { seen: 100, kept: 40 }, yes: { seen: 50, kept: 20 } });
    expect(data.table.header).toEqual(['customer_id', 'age', 'member', 'y']);
    expect(data.table.records).toHaveLength(60);
    for (const record of data.table.records) expect(record[3]).toBe(outcomes.get(record[0]!) ? 'yes' : 'no');
    expect(data.sources).toEqual([`s3://run-index/labels/tiny/outcomes.csv`, `s3://run-index/incoming/tiny/night-2.csv`]);
    expect(again.table.records).toEqual(data.table.records);
  });
});
