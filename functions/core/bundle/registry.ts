import type { BundleManifest } from './bundleManifest.js';

/** A model bundle's files, read into memory (bundles are small: under a megabyte each). */
export interface BundleFiles {
  readonly manifest: BundleManifest;
  /** Every file of the bundle except `manifest.json`, by path inside the bundle; hashes already verified. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Where the bundle was read from, for messages (`model-store/bank-marketing/…`, `s3://…`). */
  readonly location: string;
}

/** The champion alias of a model (`<name>/champion.json`) and its promotion log (`<name>/history.json`). */
export const CHAMPION_FILE = 'champion.json';
export const HISTORY_FILE = 'history.json';

/** One promotion: the alias file holds the latest, the history file all of them. */
export interface PromotionRecord {
  version: string;
  promotedAt: string;
  reason: string;
  previous?: string;
}

export interface RegistryEntry {
  readonly name: string;
  readonly version: string;
  readonly created: string;
}

/**
 * Lists, reads and writes model bundles, and keeps a `champion` alias per model name.
 * Backends: the filesystem (`FsRegistry`) and S3 (`S3Registry`), with the same layout:
 * `<root>/<name>/<version>/{manifest.json,…}` and `<root>/<name>/champion.json`.
 */
export interface ModelRegistry {
  listModels(): Promise<string[]>;
  listVersions(name: string): Promise<RegistryEntry[]>;
  /** Reads and verifies one bundle. `version` defaults to the champion. */
  read(name: string, version?: string): Promise<BundleFiles>;
  /** Writes a bundle (manifest last, so a half-written version is never listed as complete). */
  write(bundle: { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }): Promise<RegistryEntry>;
  champion(name: string): Promise<string | undefined>;
  /** Points the champion alias at a version; keeps a history of promotions with their reasons. */
  promote(name: string, version: string, reason: string): Promise<void>;
  /** Promotion history, newest last. */
  history(name: string): Promise<PromotionRecord[]>;
}
