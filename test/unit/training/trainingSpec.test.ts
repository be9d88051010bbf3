import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../functions/core/errors.js';
import { cardOfferSpec, cardOfferHeader, CARD_OFFER_BEHAVIOURS, generateCardOfferTable } from '../../../functions/core/training/syntheticCardOffer.js';
import { parseTrainingSpec } from '../../../functions/core/training/trainingSpec.js';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const BUNDLED = ['audiobooks', 'bank-marketing', 'ecommerce-churn', 'segmentation', 'card-offer'];

describe('parseTrainingSpec', () => {
  it.each(BUNDLED)('parses model-store/%s/spec.json and names the bundle after its folder', async (name) => {
    const json = JSON.parse(await readFile(path.join(repo, 'model-store', name, 'spec.json'), 'utf8')) as unknown;
    const spec = parseTrainingSpec(json, `${name}/spec.json`);
    expect(spec.name).toBe(name);
    expect(spec.featureSpec.columns.some((c) => c.role === 'target')).toBe(true);
  });

  it('keeps bank-marketing honest: duration is ignored, with the reason in the spec and the notes', async () => {
    const spec = parseTrainingSpec(JSON.parse(await readFile(path.join(repo, 'model-store/bank-marketing/spec.json'), 'utf8')));
    const duration = spec.featureSpec.columns.find((c) => c.name === 'duration')!;
    expect(duration.role).toBe('ignore');
    expect(duration.description).toContain('only known after the call');
    expect(spec.notes.join(' ')).toContain('duration is left out');
  });

  it('has the recommended action for every segment', async () => {
    const spec = parseTrainingSpec(JSON.parse(await readFile(path.join(repo, 'model-store/segmentation/spec.json'), 'utf8')));
    expect(Object.keys(spec.actions ?? {}).sort()).toEqual(['A', 'B', 'C', 'D']);
    expect(spec.actions!.A).toContain('discounts and affordability');
    expect(spec.actions!.D).toContain('exclusive perks');
  });

  it('the committed card-offer spec is exactly what cardOfferSpec() generates', async () => {
    const committed = JSON.parse(await readFile(path.join(repo, 'model-store/card-offer/spec.json'), 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(cardOfferSpec())));
  });

  it('wraps a bare feature spec with default training settings', () => {
    const spec = parseTrainingSpec({ columns: [{ name: 'x', role: 'feature' }, { name: 'y', role: 'target', type: 'categorical' }] }, 'bare.json', 'churn');
    expect(spec.name).toBe('churn');
    expect(spec.model).toMatchObject({ kind: 'mlp', layers: [64, 32] });
    expect(spec.training).toMatchObject({ seed: 42, monitor: 'loss', calibration: 'auto', ensemble: 1 });
    expect(spec.search).toBeUndefined();
  });

  it('rejects an invalid spec with SPEC_INVALID, the source and the path', () => {
    const bad = { name: 'ok', featureSpec: { columns: [{ name: 'x', role: 'feature' }] }, training: { epochs: 0 } };
    let error: unknown;
    try {
      parseTrainingSpec(bad, 'model-store/ok/spec.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect(error).toMatchObject({ code: 'SPEC_INVALID', source: 'model-store/ok/spec.json', path: 'training.epochs' });
    expect((error as Error).message).toMatch(/^model-store\/ok\/spec\.json at training\.epochs: training\.epochs: /);
  });
});

describe('synthetic card-offer data', () => {
  it('is the same for a seed and lays out <behaviour>_m<month> columns behaviour by behaviour', () => {
    const a = generateCardOfferTable({ customers: 300, seed: 3 });
    const b = generateCardOfferTable({ customers: 300, seed: 3 });
    expect(a.records).toEqual(b.records);
    expect(a.header).toEqual(cardOfferHeader(10));
    expect(a.header!.length).toBe(2 + 10 * CARD_OFFER_BEHAVIOURS.length);
    expect(a.header!.slice(1, 3)).toEqual(['spend_groceries_m1', 'spend_groceries_m2']);
    expect(generateCardOfferTable({ customers: 300, seed: 4 }).records).not.toEqual(a.records);
  });

  it('has a minority of responders and a few empty cells, like a real extract', () => {
    const table = generateCardOfferTable({ customers: 4000, seed: 7 });
    const rate = table.responders / 4000;
    expect(rate).toBeGreaterThan(0.05);
    expect(rate).toBeLessThan(0.15);
    expect(table.records.filter((r) => r.at(-1) === 'yes').length).toBe(table.responders);
    const empty = table.records.reduce((n, r) => n + r.filter((v) => v === '').length, 0);
    expect(empty).toBeGreaterThan(0);
  });
});
