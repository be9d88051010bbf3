import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundleDir, writeBundleDir } from '../../../functions/adapters/fs/bundleDir.js';
import { FsRegistry } from '../../../functions/adapters/fs/fsRegistry.js';
import { createBundle, sha256Hex } from '../../../functions/core/bundle/bundle.js';
import { isBundleFilePath, isModelName, isVersionName, MAX_BUNDLE_BYTES } from '../../../functions/core/bundle/bundleNames.js';
import { BundleError } from '../../../functions/core/errors.js';
import { tinyBinaryBundle } from '../../helpers/tinyBundle.js';

/** A bundle folder written by writeBundleDir: `manifest.json` + `model.onnx`. */
async function bundleFolder(): Promise<{ parent: string; dir: string }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'propensity-bundle-reads-'));
  const dir = path.join(parent, 'tiny');
  await writeBundleDir(dir, await tinyBinaryBundle());
  return { parent, dir };
}

async function rejection(promise: Promise<unknown>): Promise<BundleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  return error as BundleError;
}

/** Rewrites the manifest of a bundle folder with one more file entry (its hash taken from `bytes`). */
async function listExtraFile(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as { files: Record<string, string> };
  manifest.files[name] = sha256Hex(bytes);
  await writeFile(file, JSON.stringify(manifest));
}

describe('bundle names, versions and file paths', () => {
  it('accepts plain folder names and refuses anything that could leave the folder', () => {
    expect(['bank-marketing', 'a1'].map(isModelName)).toEqual([true, true]);
    expect(['Bank', '../x', '-a', '', 'a/b'].map(isModelName)).toEqual([false, false, false, false, false]);
    expect(['2026-11-23T1033-3de10a', 'v1', 'v1.2_rc'].map(isVersionName)).toEqual([true, true, true]);
    expect(['../../x/v1', 'v1..2', '.hidden', 'a/b', 'a\\b', '', 'v 1', 'C:x'].map(isVersionName)).toEqual(new Array(8).fill(false));
    expect(['model.onnx', 'tfjs/model.json'].map(isBundleFilePath)).toEqual([true, true]);
    expect(['../x', '/etc/passwd', 'tfjs\\model.json', 'a//b', './a', 'a/..', 'C:/x', ''].map(isBundleFilePath)).toEqual(new Array(8).fill(false));
    expect(MAX_BUNDLE_BYTES).toBe(256 * 1024 * 1024);
  });

  it('refuses a manifest whose version is not a plain folder name when the bundle is created', async () => {
    const tiny = await tinyBinaryBundle();
    const error = (() => {
      try {
        createBundle({ ...tiny.manifest, version: '../../x/v1' }, tiny.files);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BundleError);
    expect(error).toMatchObject({ code: 'BUNDLE_INVALID', bundle: 'tiny', modelVersion: '../../x/v1' });
    expect((error as Error).message).toBe('tiny@../../x/v1: manifest version: letters, digits, ".", "_" and "-", starting with a letter or digit, no ".."');
  });
});

describe('readBundleDir reads only what the manifest lists', () => {
  it('ignores an unlisted extra file and never opens it (a dangling link would fail any read)', async () => {
    // Prepare: a 2 MiB stray file and a link to nowhere beside the bundle.
    const { parent, dir } = await bundleFolder();
    await writeFile(path.join(dir, 'stray.bin'), Buffer.alloc(2 * 1024 * 1024, 1));
    await symlink(path.join(parent, 'no-such-file'), path.join(dir, 'dangling'));
    await mkdir(path.join(dir, 'notes'));
    await writeFile(path.join(dir, 'notes', 'todo.txt'), 'stray');
    // Act: a 1 MiB cap, which the stray file alone would break.
    const bundle = await readBundleDir(dir, { maxBytes: 1024 * 1024 });
    // Assess
    expect([...bundle.files.keys()]).toEqual(['model.onnx']);
    expect(bundle.manifest.name).toBe('tiny');
  });

  it('refuses a bundle past the byte cap before reading its files, naming the cap', async () => {
    const { dir } = await bundleFolder();
    const manifestBytes = (await readFile(path.join(dir, 'manifest.json'))).length;
    const error = await rejection(readBundleDir(dir, { maxBytes: manifestBytes + 10 }));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toMatch(new RegExp(`^${dir}: the bundle holds more than ${manifestBytes + 10} bytes \\(\\d+ so far\\); refusing to read it$`));
    expect(error.toJSON()).toMatchObject({ bundle: dir });
  });

  it.each([
    ['../outside.bin', 'manifest.json files.../outside.bin: not a relative path inside the bundle'],
    ['/etc/hostname', 'manifest.json files./etc/hostname: not a relative path inside the bundle'],
    ['tfjs\\model.json', 'manifest.json files.tfjs\\model.json: not a relative path inside the bundle'],
  ])('refuses a listed path that escapes the folder: %s', async (name, message) => {
    const { parent, dir } = await bundleFolder();
    const secret = new TextEncoder().encode('not part of the bundle');
    await writeFile(path.join(parent, 'outside.bin'), secret);
    await listExtraFile(dir, name, secret);
    const error = await rejection(readBundleDir(dir));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe(`${dir}: ${message}`);
  });

  it('refuses a listed file that is a link leading out of the folder, even with the right sha256', async () => {
    const { parent, dir } = await bundleFolder();
    const model = await readFile(path.join(dir, 'model.onnx'));
    await writeFile(path.join(parent, 'model-copy.onnx'), model);
    await rm(path.join(dir, 'model.onnx'));
    await symlink(path.join(parent, 'model-copy.onnx'), path.join(dir, 'model.onnx'));
    const error = await rejection(readBundleDir(dir));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe(`${dir}@2026-01-01-test: file "model.onnx" leads outside the bundle folder`);
    expect(error.toJSON()).toMatchObject({ bundle: dir, modelVersion: '2026-01-01-test' });
  });
});

describe('FsRegistry refuses names and versions that are not plain folder names', () => {
  async function registry() {
    const parent = await mkdtemp(path.join(tmpdir(), 'propensity-fs-traversal-'));
    const root = path.join(parent, 'registry');
    const fs = new FsRegistry(root);
    await fs.write(await tinyBinaryBundle({ version: '2026-01-01' }));
    // A valid bundle where `../../x/v1` from the model folder would lead: it must never be read.
    await writeBundleDir(path.join(parent, 'x', 'v1'), await tinyBinaryBundle({ version: 'v1' }));
    return { root, fs };
  }

  it('refuses a champion.json whose version climbs out of the registry, naming the registry file', async () => {
    const { root, fs } = await registry();
    await writeFile(path.join(root, 'tiny', 'champion.json'), JSON.stringify({ version: '../../x/v1', promotedAt: '2026-01-01T00:00:00Z', reason: 'x' }));
    // Each call started only when awaited: a second promise made up front rejects unhandled while the first is awaited.
    for (const call of [() => fs.read('tiny'), () => fs.champion('tiny')]) {
      const error = await rejection(call());
      expect(error.code).toBe('BUNDLE_INVALID');
      expect(error.message).toBe(`${root}/tiny: ${path.join(root, 'tiny', 'champion.json')} has no valid "version"`);
      expect(error.toJSON()).toMatchObject({ bundle: `${root}/tiny` });
    }
  });

  it('refuses a champion.json that is not JSON', async () => {
    const { root, fs } = await registry();
    await writeFile(path.join(root, 'tiny', 'champion.json'), '{ not json');
    const error = await rejection(fs.read('tiny'));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe(`${root}/tiny: ${path.join(root, 'tiny', 'champion.json')} is not valid JSON`);
  });

  it('refuses a version or model name given by the caller that is not a plain folder name', async () => {
    const { root, fs } = await registry();
    const version = await rejection(fs.read('tiny', '../../x/v1'));
    expect(version).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: `${root}/tiny`, modelVersion: '../../x/v1' });
    expect(version.message).toBe(`${root}/tiny@../../x/v1: not a valid version in the registry ${root}`);

    const name = await rejection(fs.read('../x', 'v1'));
    expect(name).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: '../x' });
    expect(name.message).toBe(`../x: not a valid model name in the registry ${root}`);

    await expect(fs.promote('tiny', '../../x/v1', 'why')).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND', modelVersion: '../../x/v1' });
    expect(await fs.champion('tiny')).toBeUndefined();
  });
});
