import { access, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, type BundleManifest } from '../../core/bundle/bundleManifest.js';
import { isModelName, isVersionName } from '../../core/bundle/bundleNames.js';
import { CHAMPION_FILE, HISTORY_FILE, type BundleFiles, type ModelRegistry, type PromotionRecord, type RegistryEntry } from '../../core/bundle/registry.js';
import { BundleError } from '../../core/errors.js';
import { readBundleDir, writeBundleDir } from './bundleDir.js';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes JSON through a temporary file and a rename, so a reader never sees half an alias. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}

/**
 * The model registry on a filesystem: `<root>/<name>/<version>/manifest.json…`, the alias
 * `<root>/<name>/champion.json` and the promotion log `<root>/<name>/history.json`.
 * The bundled models ship as such a registry rooted at `model-store/`.
 */
export class FsRegistry implements ModelRegistry {
  constructor(readonly root: string) {}

  async listModels(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const models: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory() && isModelName(entry.name) && (await this.listVersions(entry.name)).length > 0) models.push(entry.name);
    }
    return models.sort();
  }

  async listVersions(name: string): Promise<RegistryEntry[]> {
    this.checkName(name);
    const dir = path.join(this.root, name);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const versions: RegistryEntry[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !isVersionName(entry.name)) continue;
      const manifest = await readJson<BundleManifest>(path.join(dir, entry.name, MANIFEST_FILE));
      if (manifest) versions.push({ name, version: manifest.version, created: manifest.created });
    }
    return versions.sort((a, b) => (a.version < b.version ? -1 : 1));
  }

  async read(name: string, version?: string): Promise<BundleFiles> {
    this.checkName(name);
    const chosen = version ?? (await this.champion(name)) ?? (await this.listVersions(name)).at(-1)?.version;
    if (!chosen) throw new BundleError('BUNDLE_NOT_FOUND', 'no version in the registry', { bundle: `${this.root}/${name}` });
    this.checkVersion(name, chosen);
    const dir = path.join(this.root, name, chosen);
    if (!(await exists(path.join(dir, MANIFEST_FILE)))) {
      throw new BundleError('BUNDLE_NOT_FOUND', 'no such version', { bundle: `${this.root}/${name}`, modelVersion: chosen });
    }
    return readBundleDir(dir);
  }

  async write(bundle: { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }): Promise<RegistryEntry> {
    const { name, version, created } = bundle.manifest;
    this.checkVersion(name, version);
    await writeBundleDir(path.join(this.root, name, version), bundle);
    return { name, version, created };
  }

  async champion(name: string): Promise<string | undefined> {
    this.checkName(name);
    const file = path.join(this.root, name, CHAMPION_FILE);
    const alias = await readJson<Partial<PromotionRecord>>(file).catch((error: unknown) => {
      if (!(error instanceof SyntaxError)) throw error;
      throw new BundleError('BUNDLE_INVALID', `${file} is not valid JSON`, { bundle: `${this.root}/${name}`, cause: error });
    });
    if (alias === undefined) return undefined;
    // The alias picks a folder to read: a version such as `../../x/v1` must never reach path.join.
    if (!isVersionName(alias?.version)) throw new BundleError('BUNDLE_INVALID', `${file} has no valid "version"`, { bundle: `${this.root}/${name}` });
    return alias.version;
  }

  async promote(name: string, version: string, reason: string): Promise<void> {
    this.checkVersion(name, version);
    const dir = path.join(this.root, name);
    if (!(await exists(path.join(dir, version, MANIFEST_FILE)))) {
      throw new BundleError('BUNDLE_NOT_FOUND', 'cannot promote a version that is not in the registry', { bundle: dir, modelVersion: version });
    }
    const previous = await this.champion(name);
    const record: PromotionRecord = { version, promotedAt: new Date().toISOString(), reason, ...(previous ? { previous } : {}) };
    const history = [...(await this.history(name)), record];
    await writeJsonAtomic(path.join(dir, HISTORY_FILE), history);
    await writeJsonAtomic(path.join(dir, CHAMPION_FILE), record);
  }

  async history(name: string): Promise<PromotionRecord[]> {
    this.checkName(name);
    return (await readJson<PromotionRecord[]>(path.join(this.root, name, HISTORY_FILE))) ?? [];
  }

  private checkName(name: string): void {
    if (!isModelName(name)) throw new BundleError('BUNDLE_NOT_FOUND', `not a valid model name in the registry ${this.root}`, { bundle: name });
  }

  private checkVersion(name: string, version: string): void {
    this.checkName(name);
    if (!isVersionName(version)) {
      throw new BundleError('BUNDLE_NOT_FOUND', `not a valid version in the registry ${this.root}`, { bundle: `${this.root}/${name}`, modelVersion: version });
    }
  }
}
