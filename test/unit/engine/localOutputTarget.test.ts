import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { ExtractError } from '../../../functions/core/errors.js';

/** One run into `dir`: writes each named file with its text, then commits. */
async function finishedRun(dir: string, files: Record<string, string>): Promise<void> {
  const target = new LocalOutputTarget(dir);
  for (const [name, text] of Object.entries(files)) target.open(name).end(text);
  await target.commit();
}

describe('LocalOutputTarget: a run never leaves an earlier run’s outputs beside its own', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'propensity-target-'));
    dir = path.join(root, 'run');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a failed run into the folder of a finished one leaves error.json only, and other files alone', async () => {
    // Prepare: a finished run, and a file of the user's in the same folder.
    await finishedRun(dir, { 'scores.csv': 'id,p\n', 'targets.csv': 'id\n', 'summary.json': '{}', 'profile.json': '{}', 'report.md': '#' });
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    // Act: the next run fails after opening an output.
    const failing = new LocalOutputTarget(dir);
    failing.open('scores.csv').end('id,p\n1,0.5\n');
    await failing.abort(new ExtractError('EXTRACT_MALFORMED', 'unclosed quote', { file: 'x.csv', line: 7, column: 2 }));
    // Assess
    expect((await readdir(dir)).sort()).toEqual(['error.json', 'notes.txt']);
    expect(JSON.parse(await readFile(path.join(dir, 'error.json'), 'utf8'))).toMatchObject({ status: 'failed', error: { code: 'EXTRACT_MALFORMED', line: 7 } });
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('a finished run removes the earlier run’s files it does not write itself (a profile, a stale error.json)', async () => {
    await finishedRun(dir, { 'scores.csv': 'old', 'profile.json': '{"old":true}', 'extra-output.csv': 'old' });
    await writeFile(path.join(dir, 'error.json'), '{}');

    await finishedRun(dir, { 'scores.csv': 'new', 'summary.json': '{}' });

    expect((await readdir(dir)).sort()).toEqual(['_SUCCESS', 'scores.csv', 'summary.json']);
    expect(await readFile(path.join(dir, 'scores.csv'), 'utf8')).toBe('new');
    const success = JSON.parse(await readFile(path.join(dir, '_SUCCESS'), 'utf8')) as { files: Array<{ name: string }> };
    expect(success.files.map((f) => f.name)).toEqual(['scores.csv', 'summary.json']);
  });

  it('never deletes outside its folder, whatever an earlier _SUCCESS lists', async () => {
    await writeFile(path.join(root, 'outside.txt'), 'keep');
    await finishedRun(dir, { 'scores.csv': 'old' });
    await writeFile(path.join(dir, '_SUCCESS'), JSON.stringify({ files: [{ name: '../outside.txt' }, { name: '..' }, { name: '/etc/hostname' }, { name: 'scores.csv' }] }));

    await new LocalOutputTarget(dir).abort(new Error('boom'));

    expect(await readFile(path.join(root, 'outside.txt'), 'utf8')).toBe('keep');
    expect(await readdir(dir)).toEqual(['error.json']);
  });
});
