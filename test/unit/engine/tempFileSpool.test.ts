import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { writeText } from '../../../functions/core/engine/textStreams.js';

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'propensity-spool-test-'));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

const exists = (dir: string) => access(dir).then(() => true, () => false);

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe('tempFileSpool', () => {
  it('gives back each channel line by line, in order, as often as asked, and removes its folder on dispose', async () => {
    // Prepare
    const spool = await tempFileSpool({ parent })();
    expect(path.dirname(spool.dir)).toBe(parent);
    // Act
    await writeText(spool.scores, '0.5|c1,0.500000,yes\n');
    await writeText(spool.scores, '0.25|"a,b",0.250000,no\n');
    await writeText(spool.rejects, '5,age,NOT_A_NUMBER,not a number,"c4,abc,yes"\n');
    await spool.close();
    // Assess
    expect(await collect(spool.lines('scores'))).toEqual(['0.5|c1,0.500000,yes', '0.25|"a,b",0.250000,no']);
    expect(await collect(spool.lines('scores'))).toHaveLength(2);
    expect(await collect(spool.lines('rejects'))).toEqual(['5,age,NOT_A_NUMBER,not a number,"c4,abc,yes"']);
    await spool.dispose();
    expect(await exists(spool.dir)).toBe(false);
  });

  it('an empty channel reads as no lines', async () => {
    const spool = await tempFileSpool({ parent })();
    await spool.close();
    expect(await collect(spool.lines('rejects'))).toEqual([]);
    await spool.dispose();
  });

  it('dispose works before close (a failed part) and twice', async () => {
    const spool = await tempFileSpool({ parent })();
    await writeText(spool.rejects, 'a raw customer row\n');
    await spool.dispose();
    await spool.dispose();
    expect(await exists(spool.dir)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('a write after dispose fails instead of hanging', async () => {
    const spool = await tempFileSpool({ parent })();
    await spool.dispose();
    await expect(writeText(spool.scores, 'x\n')).rejects.toThrow();
  });
});
