import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cachedWorkerInputs, partWorkerEntry } from '../../../functions/adapters/workers/partWorkerEntry.js';

const WORKERS = fileURLToPath(new URL('../../../functions/adapters/workers/', import.meta.url));

describe('partWorkerEntry: the file a scoring worker thread starts from', () => {
  it('is scorePartWorker.mjs beside a bundled handler', async () => {
    expect((await partWorkerEntry('file:///var/task/index.mjs')).href).toBe('file:///var/task/scorePartWorker.mjs');
  });

  it('is, from the TypeScript source, a bundle of the worker\'s own modules in node_modules/.cache that records what it was built from', async () => {
    const entry = fileURLToPath(await partWorkerEntry(new URL('scoreInParts.ts', `file://${WORKERS}`).href));
    expect(entry.split(path.sep).slice(-5, -2)).toEqual(['node_modules', '.cache', 'propensity-worker']);
    expect(entry.split(path.sep).at(-2)).toMatch(/^[0-9a-f]{12}$/); // one bundle per checkout (worktrees share node_modules)
    expect(entry.split(path.sep).at(-1)).toBe('scorePartWorker.mjs');
    expect(existsSync(entry)).toBe(true);
    const inputs = cachedWorkerInputs();
    expect(inputs).toContain(path.join(WORKERS, 'scorePartWorker.ts'));
    expect(inputs).toContain(path.join(WORKERS, 'partTasks.ts'));
    // Packages load through Node's own resolution (onnxruntime-node's binary, tfjs's .wasm files).
    expect(inputs.filter((file) => file.split(path.sep).includes('node_modules'))).toEqual([]);
  });
});
