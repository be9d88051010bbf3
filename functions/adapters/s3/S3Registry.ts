import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BundleError } from '../../core/errors.js';
import { parseWith } from '../../core/validation.js';
import { verifyBundle } from '../../core/bundle/bundle.js';
import { MANIFEST_FILE, bundleManifestSchema, type BundleManifest } from '../../core/bundle/bundleManifest.js';
import { CHAMPION_FILE, HISTORY_FILE, type PromotionRecord } from '../../core/bundle/registry.js';
import type { BundleFiles, ModelRegistry, RegistryEntry } from '../../core/bundle/registry.js';
import { isBundleFilePath, isModelName, isVersionName, MAX_BUNDLE_BYTES } from '../../core/bundle/bundleNames.js';
import { isNotFound, listChildPrefixes, putJsonObject, putObject, readJsonObject, readObjectBytes } from './s3Objects.js';

export { CHAMPION_FILE, HISTORY_FILE, type PromotionRecord };


/**
 * The model registry on S3, laid out like the filesystem registry:
 * `<prefix><name>/<version>/manifest.json` (+ the files it lists), `<prefix><name>/champion.json`
 * and `<prefix><name>/history.json`. Every file read is checked against the manifest's sha256;
 * a version's manifest is written last, so a half-written version is never listed or read.
 *
 * @example
 * const registry = new S3Registry(client, 'propensity-bucket');
 * const bundle = await registry.read('bank-marketing'); // the champion, hashes verified
 */
export class S3Registry implements ModelRegistry {
  readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    prefix = 'models/',
    private readonly now: () => Date = () => new Date(),
    /** The most bytes one bundle may hold when read. @default MAX_BUNDLE_BYTES (256 MiB) */
    private readonly maxBundleBytes: number = MAX_BUNDLE_BYTES,
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  async listModels(): Promise<string[]> {
    const names = await listChildPrefixes(this.client, this.bucket, this.prefix);
    return names.filter(isModelName).sort();
  }

  async listVersions(name: string): Promise<RegistryEntry[]> {
    this.checkName(name);
    const versions = await listChildPrefixes(this.client, this.bucket, `${this.prefix}${name}/`);
    const entries = await Promise.all(
      versions.filter(isVersionName).map(async (version) => {
        const manifest = await this.readManifest(name, version).catch(() => undefined);
        return manifest ? { name, version, created: manifest.created } : undefined;
      }),
    );
    return entries.filter((entry): entry is RegistryEntry => entry !== undefined).sort((a, b) => a.version.localeCompare(b.version));
  }

  async read(name: string, version?: string): Promise<BundleFiles> {
    this.checkName(name);
    const resolved = version ?? (await this.champion(name));
    if (resolved === undefined) {
      throw new BundleError('BUNDLE_NOT_FOUND', `no champion in ${this.location(name)}${CHAMPION_FILE}`, { bundle: name });
    }
    this.checkVersion(name, resolved);
    // Every object is read against one byte budget (the manifest included), checked from its length before its body.
    const budget = { left: this.maxBundleBytes, location: this.location(name, resolved), version: resolved };
    const manifestKey = this.keyOf(name, resolved, MANIFEST_FILE);
    const manifestBytes = await this.readCapped(manifestKey, budget);
    const manifest = manifestBytes && this.parseManifestBytes(manifestBytes, name, resolved);
    if (!manifestBytes || !manifest) {
      throw new BundleError('BUNDLE_NOT_FOUND', `no ${MANIFEST_FILE} at ${this.location(name, resolved)}`, { bundle: name, modelVersion: resolved });
    }
    const files = new Map<string, Uint8Array>();
    // One at a time, so the budget stops the read at the first object past it.
    for (const path of Object.keys(manifest.files)) {
      const bytes = await this.readCapped(this.keyOf(name, resolved, path), budget);
      if (bytes !== undefined) files.set(path, bytes);
    }
    // The same check as the filesystem registry: every listed file present, every sha256 equal.
    return verifyBundle(manifestBytes, files, this.location(name, resolved));
  }

  async write(bundle: { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }): Promise<RegistryEntry> {
    const manifest = this.parseManifest(bundle.manifest, 'the manifest to write');
    const { name, version } = manifest;
    this.checkVersion(name, version);
    for (const path of bundle.files.keys()) {
      if (!(path in manifest.files)) throw new BundleError('BUNDLE_INVALID', `${path} has no hash in the manifest`, { bundle: name, modelVersion: version });
    }
    verifyBundle(new TextEncoder().encode(JSON.stringify(manifest)), bundle.files, this.location(name, version));
    const existing = await this.readManifest(name, version).catch(() => undefined);
    if (existing) {
      // Versions are immutable; publishing the same bundle again (e.g. the demo on restart) is a no-op.
      if (JSON.stringify(existing.files) === JSON.stringify(manifest.files)) return { name, version, created: existing.created };
      throw new BundleError('BUNDLE_INVALID', `version already exists at ${this.location(name, version)} with different files`, {
        bundle: name,
        modelVersion: version,
      });
    }
    await Promise.all([...bundle.files].map(([path, bytes]) => putObject(this.client, this.bucket, this.keyOf(name, version, path), bytes)));
    await putJsonObject(this.client, this.bucket, this.keyOf(name, version, MANIFEST_FILE), manifest);
    return { name, version, created: manifest.created };
  }

  async champion(name: string): Promise<string | undefined> {
    this.checkName(name);
    const alias = await readJsonObject(this.client, this.bucket, `${this.keyPrefix(name)}${CHAMPION_FILE}`).catch((error: unknown) => {
      if (!(error instanceof SyntaxError)) throw error;
      throw new BundleError('BUNDLE_INVALID', `${CHAMPION_FILE} is not valid JSON`, { bundle: name, cause: error });
    });
    if (alias === undefined) return undefined;
    const version = (alias as Partial<PromotionRecord>).version;
    // The alias picks a key prefix to read: a version such as `../../x/v1` must never reach keyOf.
    if (!isVersionName(version)) {
      throw new BundleError('BUNDLE_INVALID', `${this.location(name)}${CHAMPION_FILE} has no valid "version"`, { bundle: name });
    }
    return version;
  }

  async promote(name: string, version: string, reason: string): Promise<void> {
    this.checkVersion(name, version);
    if (!(await this.readManifest(name, version))) {
      throw new BundleError('BUNDLE_NOT_FOUND', `cannot promote: no ${MANIFEST_FILE} at ${this.location(name, version)}`, { bundle: name, modelVersion: version });
    }
    const previous = await this.champion(name);
    const promotedAt = this.now().toISOString();
    // The alias holds the same record as the filesystem registry's champion.json.
    const record: PromotionRecord = { version, promotedAt, reason, ...(previous !== undefined ? { previous } : {}) };
    // History first: the alias never points at a promotion that was not recorded.
    await putJsonObject(this.client, this.bucket, `${this.keyPrefix(name)}${HISTORY_FILE}`, [...(await this.history(name)), record]);
    await putJsonObject(this.client, this.bucket, `${this.keyPrefix(name)}${CHAMPION_FILE}`, record);
  }

  async history(name: string): Promise<PromotionRecord[]> {
    this.checkName(name);
    const value = await readJsonObject(this.client, this.bucket, `${this.keyPrefix(name)}${HISTORY_FILE}`);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new BundleError('BUNDLE_INVALID', `${HISTORY_FILE} is not a JSON array`, { bundle: name });
    return value as PromotionRecord[];
  }

  /** Key prefix of a model (`models/<name>/`) or of one version (`models/<name>/<version>/`). */
  private keyPrefix(name: string, version?: string): string {
    return version === undefined ? `${this.prefix}${name}/` : `${this.prefix}${name}/${version}/`;
  }

  /** The same prefix as an `s3://` address, for messages and `BundleFiles.location`. */
  private location(name: string, version?: string): string {
    return `s3://${this.bucket}/${this.keyPrefix(name, version)}`;
  }

  private keyOf(name: string, version: string, path: string): string {
    return `${this.keyPrefix(name, version)}${path}`;
  }

  /** Reads one object within what is left of the bundle's byte budget; `undefined` when it does not exist. */
  private async readCapped(key: string, budget: { left: number; location: string; version: string }): Promise<Uint8Array | undefined> {
    const tooBig = () =>
      new BundleError('BUNDLE_INVALID', `the bundle holds more than ${this.maxBundleBytes} bytes; refusing to read it`, {
        bundle: budget.location,
        modelVersion: budget.version,
      });
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (response.ContentLength !== undefined && response.ContentLength > budget.left) {
      // Leave the body unread: close the connection instead of downloading the object.
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw tooBig();
    }
    const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    if (bytes.length > budget.left) throw tooBig();
    budget.left -= bytes.length;
    return bytes;
  }

  private async readManifest(name: string, version: string): Promise<BundleManifest | undefined> {
    const bytes = await readObjectBytes(this.client, this.bucket, this.keyOf(name, version, MANIFEST_FILE));
    return bytes === undefined ? undefined : this.parseManifestBytes(bytes, name, version);
  }

  private parseManifestBytes(bytes: Uint8Array, name: string, version: string): BundleManifest {
    const source = `s3://${this.bucket}/${this.keyOf(name, version, MANIFEST_FILE)}`;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (error) {
      throw new BundleError('BUNDLE_INVALID', `${source} is not valid JSON`, { bundle: name, modelVersion: version, cause: error });
    }
    const manifest = this.parseManifest(value, source);
    if (manifest.name !== name || manifest.version !== version) {
      throw new BundleError('BUNDLE_INVALID', `${source} describes ${manifest.name}@${manifest.version}`, { bundle: name, modelVersion: version });
    }
    return manifest;
  }

  private parseManifest(value: unknown, source: string): BundleManifest {
    const bundle = (value as { name?: unknown } | undefined)?.name;
    const manifest = parseWith(
      bundleManifestSchema,
      value,
      ({ path, message }) => new BundleError('BUNDLE_INVALID', `${source}: ${path}: ${message}`, { bundle: typeof bundle === 'string' ? bundle : 'unknown' }),
    );
    const unsafe = Object.keys(manifest.files).find((path) => !isBundleFilePath(path) || path === MANIFEST_FILE);
    if (unsafe !== undefined) {
      throw new BundleError('BUNDLE_INVALID', `${source}: file path "${unsafe}" is not allowed in a bundle`, { bundle: manifest.name });
    }
    return manifest;
  }

  private checkName(name: string): void {
    if (!isModelName(name)) throw new BundleError('BUNDLE_NOT_FOUND', `not a valid model name in the registry s3://${this.bucket}/${this.prefix}`, { bundle: name });
  }

  private checkVersion(name: string, version: string): void {
    this.checkName(name);
    if (!isVersionName(version)) throw new BundleError('BUNDLE_NOT_FOUND', `not a valid version in the registry ${this.location(name)}`, { bundle: name, modelVersion: version });
  }
}
