import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../functions/core/errors.js';
import { readBundleDir } from '../../../functions/adapters/fs/bundleDir.js';
import { FsRegistry } from '../../../functions/adapters/fs/fsRegistry.js';
import { tinyBinaryBundle } from '../../helpers/tinyBundle.js';

async function registryWithTwoVersions() {
  const root = await mkdtemp(path.join(tmpdir(), 'propensity-registry-'));
  const registry = new FsRegistry(root);
  const v1 = await tinyBinaryBundle({ version: '2026-01-01' });
  const v2 = await tinyBinaryBundle({ version: '2026-02-01' });
  await registry.write(v1);
  await registry.write(v2);
  return { root, registry };
}

describe('FsRegistry', () => {
  it('lists, promotes, reads the champion and keeps the history', async () => {
    const { registry } = await registryWithTwoVersions();
    expect(await registry.listModels()).toEqual(['tiny']);
    expect((await registry.listVersions('tiny')).map((v) => v.version)).toEqual(['2026-01-01', '2026-02-01']);
    expect(await registry.champion('tiny')).toBeUndefined();

    await registry.promote('tiny', '2026-01-01', 'first');
    await registry.promote('tiny', '2026-02-01', 'better AUC');
    expect(await registry.champion('tiny')).toBe('2026-02-01');
    expect((await registry.read('tiny')).manifest.version).toBe('2026-02-01');
    expect((await registry.history('tiny')).map((h) => [h.version, h.reason, h.previous])).toEqual([
      ['2026-01-01', 'first', undefined],
      ['2026-02-01', 'better AUC', '2026-01-01'],
    ]);
  });

  it('refuses to promote a version it does not hold', async () => {
    const { registry } = await registryWithTwoVersions();
    await expect(registry.promote('tiny', '2099-01-01', 'x')).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND', modelVersion: '2099-01-01' });
  });

  it('refuses a bundle whose model file does not match its sha256', async () => {
    const { root } = await registryWithTwoVersions();
    const dir = path.join(root, 'tiny', '2026-01-01');
    const model = await readFile(path.join(dir, 'model.onnx'));
    model.writeUInt8(model.readUInt8(model.length - 1) ^ 0xff, model.length - 1);
    await writeFile(path.join(dir, 'model.onnx'), model);
    const error = await readBundleDir(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect(error).toMatchObject({ code: 'BUNDLE_HASH_MISMATCH', modelVersion: '2026-01-01' });
    expect((error as Error).message).toMatch(/model\.onnx" has sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}/);
  });

  it('refuses a manifest that does not validate, naming the path', async () => {
    const { root } = await registryWithTwoVersions();
    const file = path.join(root, 'tiny', '2026-01-01', 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...manifest, task: 'regression' }));
    await expect(readBundleDir(path.dirname(file))).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('task') as unknown });
  });
});
