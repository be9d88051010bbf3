import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../functions/adapters/fs/localOutputTarget.js';
import { resolveEconomics } from '../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../../functions/core/engine/scoreExtract.js';
import { readExtractLayout, scorePart } from '../../functions/core/engine/scorePart.js';
import type { ScoredPart } from '../../functions/core/engine/scoredPart.js';
import { writeRunOutputs } from '../../functions/core/engine/writeRunOutputs.js';
import { planParts } from '../../functions/core/extract/planParts.js';
import { localByteRanges } from '../../functions/adapters/fs/localByteRanges.js';
import { TempFileSpool, tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { scoredPartFromJson, scoredPartToJson } from '../../functions/core/engine/scoredPartJson.js';
import { resolveBundle } from '../../functions/cli/resolveBundle.js';
import { parseRunProfile } from '../../functions/core/drift/runProfile.js';
import { readBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { dataset, writeDatasetBundle } from '../helpers/datasetBundle.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';

let work: string;
let bundle: LoadedBundle;
let extract: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-parts-'));
  await writeDatasetBundle({
    specFile: path.resolve(import.meta.dirname, '../fixtures/specs/bank-marketing.spec.json'),
    data: dataset('bank-marketing/bank-full.csv'),
    name: 'bank-marketing',
    dir: path.join(work, 'bundle'),
  });
  bundle = await loadBundle(await readBundleDir(path.join(work, 'bundle')), loadModel);
  // The real file with a few bad rows spread through it, so rejects come from several parts.
  const lines = (await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8')).split('\n');
  for (const at of [40_000, 20_000, 5]) lines.splice(at, 0, `58;"management";"married";"tertiary";"no";not-a-number;"yes";"no";"unknown";5;"may";261;1;-1;0;"unknown";"no"`, '1;2;3');
  extract = path.join(work, 'bank-with-bad-rows.csv');
  await writeFile(extract, lines.join('\n'));
});

afterAll(async () => {
  await bundle.model.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('scoring in parts', () => {
  it('merging the parts of an extract gives exactly the outputs of scoring it whole', async () => {
    const economics = resolveEconomics(bundle.manifest.economics, { budget: { maxContacts: 2000 } });

    // Act: whole file, then four byte ranges aligned to lines, merged.
    const whole = path.join(work, 'whole');
    await scoreExtract({ input: createReadStream(extract), source: extract, bundle, economics, spool: tempFileSpool(), output: new LocalOutputTarget(whole) });
    const ranges = await planParts(await localByteRanges(extract), 4);
    expect(ranges).toHaveLength(4);
    const layout = await readExtractLayout(createReadStream(extract, { end: 1 << 16 }), bundle, extract);
    expect(layout).toEqual({ headerFields: expect.arrayContaining(['age', 'job', 'y']) as unknown, delimiter: ';' });
    const parts: ScoredPart[] = [];
    for (const [i, range] of ranges.entries()) {
      const input = createReadStream(extract, { start: range.start, end: range.end - 1 });
      const scored = await scorePart({ input, source: extract, bundle, economics, spool: tempFileSpool(), ...(i === 0 ? {} : { part: { ...layout, firstLine: range.firstLine } }) });
      // As a worker thread hands it over: JSON, and the spool's folder attached anew.
      const json = JSON.parse(JSON.stringify(scoredPartToJson(scored))) as unknown;
      parts.push(scoredPartFromJson(json, await TempFileSpool.attach((scored.spool as TempFileSpool).dir), `part ${i}`));
    }
    const merged = path.join(work, 'merged');
    await writeRunOutputs(parts, { bundle, economics, output: new LocalOutputTarget(merged), source: extract, startedAt: new Date() });

    // Assess: byte-identical files, equal summaries apart from timings.
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await readFile(path.join(merged, name), 'utf8'), name).toBe(await readFile(path.join(whole, name), 'utf8'));
    }
    const strip = (s: Record<string, unknown>) => ({ ...s, startedAt: 0, finishedAt: 0, durationMs: 0 });
    const a = JSON.parse(await readFile(path.join(whole, 'summary.json'), 'utf8')) as Record<string, unknown>;
    const b = JSON.parse(await readFile(path.join(merged, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(strip(b)).toEqual(strip(a));
    expect(a['rows']).toEqual({ read: 45_217, scored: 45_211, rejected: 6, rejectReasons: { NOT_A_NUMBER: 3, FIELD_COUNT: 3 } });
    // The extract carries y: the labels figures travelled through the parts' JSON and merged exactly.
    expect(a['labels']).toMatchObject({ column: 'y', rows: 45_211 });
    for (const part of parts) await part.spool.dispose();
  });

  it('writes a run profile whose part profiles merge to the whole-file profile', async () => {
    // The bundled model carries a drift baseline, so every run also writes profile.json.
    const bundled = await loadBundle(await resolveBundle('bank-marketing'), loadModel);
    try {
      const economics = resolveEconomics(bundled.manifest.economics, { budget: { maxContacts: 2000 } });
      const whole = path.join(work, 'profile-whole');
      const outcome = await scoreExtract({ input: createReadStream(extract), source: extract, bundle: bundled, economics, runId: 'run-1', spool: tempFileSpool(), output: new LocalOutputTarget(whole) });
      const ranges = await planParts(await localByteRanges(extract), 3);
      const headerFields = (await readFile(extract, 'utf8')).slice(0, 400).split('\n')[0]!.split(';').map((f) => f.replaceAll('"', ''));
      const parts: ScoredPart[] = [];
      for (const [i, range] of ranges.entries()) {
        const input = createReadStream(extract, { start: range.start, end: range.end - 1 });
        parts.push(
          await scorePart({ input, source: extract, bundle: bundled, economics, runId: 'run-1', spool: tempFileSpool(), ...(i === 0 ? {} : { part: { headerFields, firstLine: range.firstLine } }) }),
        );
      }
      const merged = path.join(work, 'profile-merged');
      await writeRunOutputs(parts, { bundle: bundled, economics, output: new LocalOutputTarget(merged), source: extract, startedAt: new Date() });
      for (const part of parts) await part.spool.dispose();

      const text = await readFile(path.join(whole, 'profile.json'), 'utf8');
      expect(await readFile(path.join(merged, 'profile.json'), 'utf8')).toBe(text);
      const profile = parseRunProfile(JSON.parse(text));
      // Rejected rows are not profiled; every scored row is, once per feature and once in the score histogram.
      expect(profile.rows).toBe(outcome.summary.rows.scored);
      expect(profile.rows).toBe(45_211);
      for (const feature of profile.features) {
        expect(feature.counts.reduce((a, b) => a + b, 0) + feature.missing, feature.name).toBe(45_211);
      }
      expect(profile.score.histogram.counts.reduce((a, b) => a + b, 0)).toBe(45_211);
      expect(profile.runs).toEqual(['run-1']);
      expect(profile.modelVersion).toBe(bundled.manifest.version);
      const targets = (await readFile(path.join(whole, 'targets.csv'), 'utf8')).trim().split('\n').slice(1);
      expect(profile.selection.contacts).toBe(targets.length);
      expect(profile.selection.contacts).toBe(2000);
      // Kilobytes, not megabytes.
      expect(text.length).toBeLessThan(16_384);
    } finally {
      await bundled.model.dispose();
    }
  });
});
