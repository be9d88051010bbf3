import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardOfferCsvLines, cardOfferLongCsvLines, cardOfferSpec, generateCardOfferTable } from '../../functions/core/training/syntheticCardOffer.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/** `propensity train` on a long extract learns exactly what it learns from the wide pivot of it. */
let work: string;
let specFile: string;
let wide: string;
let long: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-train-long-'));
  const table = generateCardOfferTable({ customers: 600, seed: 31 });
  wide = path.join(work, 'wide.csv');
  long = path.join(work, 'long.csv');
  await pipeline(Readable.from(cardOfferCsvLines(table)), createWriteStream(wide));
  // The label on each customer's last row only, rows shuffled within the customer.
  await pipeline(Readable.from(cardOfferLongCsvLines(table, { seed: 9 })), createWriteStream(long));
  // Kept small: no search, two epochs, no permutation importance.
  const spec = cardOfferSpec();
  specFile = path.join(work, 'spec.json');
  await writeFile(specFile, JSON.stringify({ ...spec, search: undefined, training: { ...spec.training, epochs: 2, patience: 2, importanceRepeats: 0, calibration: 'none' } }));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Trains into a registry of its own (its one version is the bundle); returns what was printed and the bundle folder. */
async function trainOn(data: string, registry: string): Promise<{ evaluation: string; manifest: Record<string, unknown>; dir: string }> {
  const run = await runCliCaptured(['train', '--spec', specFile, '--data', data, '--registry', path.join(work, registry), '--seed', '3', '--quiet']);
  expect([run.code, run.stderr]).toEqual([0, '']);
  const versions = (await readdir(path.join(work, registry, 'card-offer'), { withFileTypes: true })).filter((e) => e.isDirectory());
  expect(versions).toHaveLength(1);
  const dir = path.join(work, registry, 'card-offer', versions[0]!.name);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  // The last line names where the bundle went, which differs between the two runs.
  return { evaluation: run.stdout.replace(/\n.*bundle written to .*\n$/, '\n'), manifest, dir };
}

/** The manifest without what differs between any two runs (times, durations, the data file's name). */
function comparable(manifest: Record<string, unknown>): unknown {
  const text = JSON.stringify(manifest, (key, value: unknown) => (['timings', 'searchSeconds', 'created', 'createdAt', 'version', 'fittedAt', 'source', 'notes', 'trainedAt'].includes(key) ? undefined : value));
  const parsed = JSON.parse(text.replaceAll(long, 'DATA').replaceAll(wide, 'DATA')) as { files?: Record<string, string> };
  // The training report's hash: the page names its data file and timings, which differ by design.
  delete parsed.files?.['report.html'];
  return parsed;
}

describe('propensity train on the long layout', () => {
  it('gives the same metrics, model and baseline as training on the wide pivot, with the same seed', async () => {
    const fromWide = await trainOn(wide, 'wide-registry');
    const fromLong = await trainOn(long, 'long-registry');
    expect(fromLong.evaluation).toBe(fromWide.evaluation);
    expect(fromLong.evaluation).toMatch(/AUC/i);
    const metrics = (manifest: Record<string, unknown>) => (comparable(manifest) as { metrics: Record<string, unknown> }).metrics;
    expect(Object.keys(metrics(fromLong.manifest))).toEqual(expect.arrayContaining(['evaluation', 'training', 'search']));
    expect(metrics(fromLong.manifest)).toEqual(metrics(fromWide.manifest));
    expect(comparable(fromLong.manifest)).toEqual(comparable(fromWide.manifest));
    expect((fromLong.manifest['featureSpec'] as { trainingRows: number }).trainingRows).toBeGreaterThan(300);
    expect(await readFile(path.join(fromLong.dir, 'model.onnx'))).toEqual(await readFile(path.join(fromWide.dir, 'model.onnx')));
  });
});
