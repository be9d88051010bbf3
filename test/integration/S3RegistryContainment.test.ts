import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { putJsonObject, putObject } from '../../functions/adapters/s3/s3Objects.js';
import { BundleError } from '../../functions/core/errors.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { sha256Hex, tinyBundle } from './support/tinyBundle.js';

let s3: EmbeddedS3;

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'containment-test' });
});
afterAll(async () => {
  await s3.stop();
});

async function rejection(promise: Promise<unknown>): Promise<BundleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  return error as BundleError;
}

describe('S3Registry reads stay inside one version prefix', () => {
  it('refuses a champion.json whose version climbs out of the model prefix, naming the registry key', async () => {
    // Prepare: a valid bundle, and one where `../../x/v1` would lead if it were joined into a key.
    const registry = new S3Registry(s3.client, s3.bucket, 'alias/');
    await registry.write(tinyBundle('v1'));
    await new S3Registry(s3.client, s3.bucket, 'x/').write(tinyBundle('v1'));
    await putJsonObject(s3.client, s3.bucket, 'alias/tiny/champion.json', { version: '../../x/v1', promotedAt: '2026-11-23T12:00:00.000Z', reason: 'x' });
    // Act / Assess
    // Each call started only when awaited: a second promise made up front rejects unhandled while the first is awaited.
    for (const call of [() => registry.read('tiny'), () => registry.champion('tiny')]) {
      const error = await rejection(call());
      expect(error.code).toBe('BUNDLE_INVALID');
      expect(error.message).toBe('tiny: s3://containment-test/alias/tiny/champion.json has no valid "version"');
      expect(error.toJSON()).toMatchObject({ bundle: 'tiny' });
    }
  });

  it('refuses a version or model name from the caller that is not a plain folder name', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'alias/');
    const version = await rejection(registry.read('tiny', '../../x/v1'));
    expect(version).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: 'tiny', modelVersion: '../../x/v1' });
    expect(version.message).toBe('tiny@../../x/v1: not a valid version in the registry s3://containment-test/alias/tiny/');
    const name = await rejection(registry.read('../x', 'v1'));
    expect(name).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: '../x' });
    expect(name.message).toBe('../x: not a valid model name in the registry s3://containment-test/alias/');
  });

  it('refuses a manifest that lists a file outside its version prefix', async () => {
    const registry = new S3Registry(s3.client, s3.bucket, 'escape/');
    const bundle = tinyBundle('v1');
    const secret = new TextEncoder().encode('another model version');
    await putObject(s3.client, s3.bucket, 'escape/tiny/model.onnx', secret);
    await putObject(s3.client, s3.bucket, 'escape/tiny/v1/model.onnx', bundle.files.get('model.onnx')!);
    await putJsonObject(s3.client, s3.bucket, 'escape/tiny/v1/manifest.json', { ...bundle.manifest, files: { ...bundle.manifest.files, '../model.onnx': sha256Hex(secret) } });
    const error = await rejection(registry.read('tiny', 'v1'));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('tiny: s3://containment-test/escape/tiny/v1/manifest.json: files.../model.onnx: not a relative path inside the bundle');
  });

  it('refuses a bundle past the byte cap, from the object length, before downloading it', async () => {
    await new S3Registry(s3.client, s3.bucket, 'capped/').write(tinyBundle('v1', 'x'.repeat(4096)));
    const registry = new S3Registry(s3.client, s3.bucket, 'capped/', () => new Date(), 4000);
    const error = await rejection(registry.read('tiny', 'v1'));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('s3://containment-test/capped/tiny/v1/@v1: the bundle holds more than 4000 bytes; refusing to read it');
    expect(error.toJSON()).toMatchObject({ bundle: 's3://containment-test/capped/tiny/v1/', modelVersion: 'v1' });
    // The default cap reads the same bundle.
    expect((await new S3Registry(s3.client, s3.bucket, 'capped/').read('tiny', 'v1')).files.get('model.onnx')).toHaveLength(4096);
  });
});
