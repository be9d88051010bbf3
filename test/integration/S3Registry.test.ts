import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../../functions/core/errors.js';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { listKeys, putObject, readJsonObject } from '../../functions/adapters/s3/s3Objects.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { sha256Hex, tinyBundle } from './support/tinyBundle.js';

let s3: EmbeddedS3;
let clock = 0;
const now = () => new Date(Date.UTC(2026, 10, 23, 12, 0, clock++));

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'registry-test' });
});
afterAll(async () => {
  await s3.stop();
});

describe('S3Registry', () => {
  it('round-trips bundles with the filesystem layout, a champion alias and a promotion history', async () => {
    // Prepare
    const registry = new S3Registry(s3.client, s3.bucket, 'models/', now);
    const v1 = tinyBundle('2026-11-01T0000-aaaaaa');
    const v2 = tinyBundle('2026-11-02T0000-bbbbbb');
    // Act
    await registry.write(v1);
    await registry.write(v2);
    await registry.promote('tiny', v1.manifest.version, 'first model');
    await registry.promote('tiny', v2.manifest.version, 'better lift on holdout');
    // Assess
    expect(await listKeys(s3.client, s3.bucket, 'models/')).toEqual([
      'models/tiny/2026-11-01T0000-aaaaaa/manifest.json',
      'models/tiny/2026-11-01T0000-aaaaaa/model.onnx',
      'models/tiny/2026-11-02T0000-bbbbbb/manifest.json',
      'models/tiny/2026-11-02T0000-bbbbbb/model.onnx',
      'models/tiny/champion.json',
      'models/tiny/history.json',
    ]);
    expect(await registry.listModels()).toEqual(['tiny']);
    expect(await registry.listVersions('tiny')).toEqual([
      { name: 'tiny', version: '2026-11-01T0000-aaaaaa', created: '2026-11-23T09:00:00.000Z' },
      { name: 'tiny', version: '2026-11-02T0000-bbbbbb', created: '2026-11-23T09:00:00.000Z' },
    ]);
    expect(await registry.champion('tiny')).toBe('2026-11-02T0000-bbbbbb');
    // The alias is the latest promotion record, exactly as the filesystem registry writes it.
    expect(await readJsonObject(s3.client, s3.bucket, 'models/tiny/champion.json')).toEqual({
      version: '2026-11-02T0000-bbbbbb',
      promotedAt: '2026-11-23T12:00:01.000Z',
      reason: 'better lift on holdout',
      previous: '2026-11-01T0000-aaaaaa',
    });
    expect(await registry.history('tiny')).toEqual([
      { version: '2026-11-01T0000-aaaaaa', promotedAt: '2026-11-23T12:00:00.000Z', reason: 'first model' },
      {
        version: '2026-11-02T0000-bbbbbb',
        promotedAt: '2026-11-23T12:00:01.000Z',
        reason: 'better lift on holdout',
        previous: '2026-11-01T0000-aaaaaa',
      },
    ]);

    const champion = await registry.read('tiny');
    expect(champion.manifest).toEqual(v2.manifest);
    expect(Buffer.from(champion.files.get('model.onnx')!).toString()).toBe('model bytes of 2026-11-02T0000-bbbbbb');
    expect(champion.location).toBe('s3://registry-test/models/tiny/2026-11-02T0000-bbbbbb/');
    const older = await registry.read('tiny', '2026-11-01T0000-aaaaaa');
    expect(older.manifest.version).toBe('2026-11-01T0000-aaaaaa');

    // Writing the same version again is a no-op; different files under the same version are refused.
    await expect(registry.write(v1)).resolves.toEqual({ name: 'tiny', version: v1.manifest.version, created: v1.manifest.created });
    const changed = tinyBundle('2026-11-01T0000-aaaaaa', 'other bytes');
    await expect(registry.write(changed)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', modelVersion: '2026-11-01T0000-aaaaaa' });
  });

  it('refuses to read a bundle whose file no longer matches the manifest sha256', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'tampered/');
    const bundle = tinyBundle('v1');
    await registry.write(bundle);
    await putObject(s3.client, s3.bucket, 'tampered/tiny/v1/model.onnx', 'tampered');
    const error = await registry.read('tiny', 'v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect(error).toMatchObject({ code: 'BUNDLE_HASH_MISMATCH', bundle: 's3://registry-test/tampered/tiny/v1/', modelVersion: 'v1' });
    expect((error as Error).message).toBe(
      `s3://registry-test/tampered/tiny/v1/@v1: file "model.onnx" has sha256 ${sha256Hex('tampered')}, manifest says ${bundle.manifest.files['model.onnx']}`,
    );
  });

  it('refuses to write a bundle whose files do not match its manifest', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'refused/');
    const bundle = tinyBundle('v1');
    bundle.files.set('model.onnx', new TextEncoder().encode('not what the manifest says'));
    await expect(registry.write(bundle)).rejects.toMatchObject({
      code: 'BUNDLE_HASH_MISMATCH',
      bundle: 's3://registry-test/refused/tiny/v1/',
      modelVersion: 'v1',
    });
    expect(await listKeys(s3.client, s3.bucket, 'refused/')).toEqual([]);
  });

  it('says BUNDLE_NOT_FOUND when a model has no champion or the version does not exist', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'empty/');
    expect(await registry.champion('tiny')).toBeUndefined();
    expect(await registry.history('tiny')).toEqual([]);
    await expect(registry.read('tiny')).rejects.toMatchObject({
      code: 'BUNDLE_NOT_FOUND',
      bundle: 'tiny',
      message: 'tiny: no champion in s3://registry-test/empty/tiny/champion.json',
    });
    await expect(registry.promote('tiny', 'v9', 'why not')).rejects.toMatchObject({
      code: 'BUNDLE_NOT_FOUND',
      modelVersion: 'v9',
      message: 'tiny@v9: cannot promote: no manifest.json at s3://registry-test/empty/tiny/v9/',
    });
  });

  it('refuses a bundle with a listed file missing from S3', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'missing/');
    await registry.write(tinyBundle('v1'));
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'missing/tiny/v1/model.onnx' }));
    await expect(registry.read('tiny', 'v1')).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: 's3://registry-test/missing/tiny/v1/@v1: file "model.onnx" listed in the manifest is missing',
    });
  });

  it('does not list a version whose manifest was never written (a half-written upload)', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'half/');
    await registry.write(tinyBundle('v1'));
    await putObject(s3.client, s3.bucket, 'half/tiny/v2/model.onnx', 'partial');
    expect((await registry.listVersions('tiny')).map((e) => e.version)).toEqual(['v1']);
  });
});
