import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * The contact policy on the real bank-full extract (dataset() throws when ../shared is missing: the
 * test fails, never skips). The bundled bank-marketing spec has no id column: a row's id is its line
 * number in the file (header = line 1), the `line` column of scores.csv and targets.csv.
 */
const BANK = dataset('bank-marketing/bank-full.csv');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-policy-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function score(name: string, ...more: string[]) {
  const out = path.join(work, name);
  const run = await runCliCaptured(['score', '--model', 'bank-marketing', '--input', BANK, '--out', out, '--quiet', ...more]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const text = (file: string) => readFile(path.join(out, file), 'utf8');
  const rows = async (file: string) => (await text(file)).trim().split('\n').slice(1);
  return { out, text, rows, summary: JSON.parse(await text('summary.json')) as RunSummary };
}
const idOf = (row: string) => row.slice(0, row.indexOf(','));

describe('suppression lists on bank-full', () => {
  it('1,000 suppressed ids: none in targets.csv, all marked in scores.csv with their reason, counts equal in the summary', async () => {
    // Prepare: every 45th line from line 2, half opt-outs, half complaints, plus one expired entry.
    const ids = Array.from({ length: 1000 }, (_, k) => 2 + 45 * k);
    const list = path.join(work, 'suppress.csv');
    await writeFile(list, `id,reason,until\n${ids.map((id, k) => `${id},${k % 2 ? 'complaint' : 'opt-out'},`).join('\n')}\n3,old,2000-01-01\n`);
    // Act
    const plain = await score('plain', '--workers', '1');
    const run = await score('suppressed', '--workers', '1', '--suppress', list);
    const inParts = await score('suppressed-parts', '--workers', '2', '--parts', '3', '--suppress', list);
    // Assess
    const suppressed = new Set(ids.map(String));
    const targets = await run.rows('targets.csv');
    expect(targets.filter((r) => suppressed.has(idOf(r)))).toEqual([]);
    const scores = await run.rows('scores.csv');
    expect((await run.text('scores.csv')).split('\n', 1)[0]).toBe('line,probability,predicted,suppressed,suppression_reason,decile');
    const marked = scores.filter((r) => r.split(',')[3] === 'true');
    expect(marked.map(idOf)).toEqual(ids.map(String));
    expect(marked.every((r) => /,true,(opt-out|complaint),\d+$/.test(r))).toBe(true);
    expect(scores.find((r) => idOf(r) === '3')).toMatch(/^3,[0-9.]+,(yes|no),false,,\d+$/);
    expect(run.summary.policy!.suppression).toEqual({ customers: 1000, byReason: { complaint: 500, 'opt-out': 500 } });
    expect(run.summary.selected).toBe(targets.length);
    // Economics apply to those who remain: everyone = the scored minus the suppressed.
    expect(run.summary.campaign!.everyone.contacts).toBe(45_211 - 1000);
    // Without lists scores.csv keeps its layout, and the selection is the plain one minus the suppressed.
    expect((await plain.text('scores.csv')).split('\n', 1)[0]).toBe('line,probability,predicted,decile');
    expect(plain.summary.policy).toBeUndefined();
    const plainTargets = (await plain.rows('targets.csv')).map(idOf);
    expect(targets.map(idOf)).toEqual(plainTargets.filter((id) => !suppressed.has(id)));
    // Parts on worker threads share the set and give the same bytes.
    for (const file of ['scores.csv', 'targets.csv', 'report.md']) {
      const strip = (t: string) => t.replace(/ \d+ ms\./, '');
      expect(strip(await inParts.text(file))).toBe(strip(await run.text(file)));
    }
  }, 120_000);

  it('a malformed suppression list fails the run naming file, line and column, not the id', async () => {
    const list = path.join(work, 'bad.csv');
    await writeFile(list, 'id,until\n4711,tomorrow\n');
    const run = await runCliCaptured(['score', '--model', 'bank-marketing', '--input', BANK, '--out', path.join(work, 'bad-out'), '--quiet', '--suppress', list]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${list}:2:2: until is not a date YYYY-MM-DD`);
    expect(run.stderr).not.toContain('4711');
  });
});

describe('control group on bank-full', () => {
  it('controlFraction 0.1: about 10 % of the selection in control.csv, identical across reruns and --parts', async () => {
    // Prepare
    const economics = path.join(work, 'control.json');
    await writeFile(economics, JSON.stringify({ controlFraction: 0.1, controlSalt: 'spring-2027' }));
    // Act
    const plain = await score('no-control', '--workers', '1');
    const one = await score('control-1', '--workers', '1', '--economics', economics);
    const again = await score('control-1-again', '--workers', '1', '--economics', economics);
    const parts = await score('control-3', '--workers', '2', '--parts', '3', '--economics', economics);
    // Assess
    const control = await one.rows('control.csv');
    const targets = await one.rows('targets.csv');
    const selection = (await plain.rows('targets.csv')).map(idOf);
    // The bundled model's selection at its default economics, as `npm start` prints it.
    expect(selection.length).toBe(21_566);
    expect(one.summary.policy!.selectedBeforeControl).toBe(selection.length);
    expect(control.length + targets.length).toBe(selection.length);
    expect(Math.abs(control.length / selection.length - 0.1)).toBeLessThan(0.01);
    expect(one.summary.policy!.control!.contacts).toBe(control.length);
    expect(one.summary.selected).toBe(targets.length);
    expect(one.summary.campaign!.selection.contacts).toBe(targets.length);
    // The split only partitions the selection, each row keeps its rank in it.
    expect([...targets, ...control].map(idOf).sort()).toEqual([...selection].sort());
    expect(new Set(targets.map(idOf)).size + new Set(control.map(idOf)).size).toBe(selection.length);
    for (const file of ['control.csv', 'targets.csv', 'scores.csv']) {
      expect(await again.text(file)).toBe(await one.text(file));
      expect(await parts.text(file)).toBe(await one.text(file));
    }
  }, 180_000);
});

describe('frequency cap on bank-full', () => {
  it('maxContacts 1 per 30 days: two runs in a row select nobody twice; a redelivered run leaves the history as it was', async () => {
    // Prepare: a budget of 5,000 so the second run has customers left to choose.
    const economics = path.join(work, 'cap.json');
    await writeFile(economics, JSON.stringify({ frequencyCap: { maxContacts: 1, days: 30 }, budget: { maxContacts: 5000 } }));
    const history = path.join(work, 'history');
    const entries = async () => {
      const dir = path.join(history, 'bank-marketing');
      const names = (await readdir(dir)).sort();
      return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, n), 'utf8')] as const)));
    };
    // Act
    const first = await score('night-1', '--workers', '1', '--economics', economics, '--history', history);
    const afterFirst = await entries();
    const redelivered = await score('night-1', '--workers', '2', '--parts', '3', '--economics', economics, '--history', history);
    const afterRedelivery = await entries();
    const second = await score('night-2', '--workers', '1', '--economics', economics, '--history', history);
    // Assess
    const one = (await first.rows('targets.csv')).map(idOf);
    const two = (await second.rows('targets.csv')).map(idOf);
    expect(one.length).toBe(5000);
    expect(two.length).toBe(5000);
    expect(two.filter((id) => one.includes(id))).toEqual([]);
    expect(Object.keys(afterFirst)).toEqual(['night-1.csv']);
    expect(afterFirst['night-1.csv']!.trim().split('\n').slice(1).map((r) => r.split(',')[0])).toEqual(one);
    // The rerun of the same object (same run id) neither counts itself nor adds a second entry.
    expect(afterRedelivery).toEqual(afterFirst);
    expect(await redelivered.text('targets.csv')).toBe(await first.text('targets.csv'));
    expect(first.summary.policy!.overCap).toBe(0);
    expect(second.summary.policy!.overCap).toBe(5000);
    const capped = (await second.rows('scores.csv')).filter((r) => r.includes(',true,contact-cap,'));
    expect(capped.map(idOf).sort()).toEqual([...one].sort());
    expect(Object.keys(await entries())).toEqual(['night-1.csv', 'night-2.csv']);
  }, 180_000);
});
