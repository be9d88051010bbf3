import { BundleError, isBundleNotFound } from '../core/errors.js';
import { loadBundle, type LoadedBundle } from '../core/engine/loadBundle.js';
import type { BundleFiles, ModelRegistry } from '../core/bundle/registry.js';
import { loadModel } from '../adapters/model/modelLoader.js';

/** Which registry a run's bundle came from: the S3 registry, or the models shipped with the function. */
export type BundleOrigin = 'registry' | 'bundled';

export interface ResolvedBundle {
  readonly bundle: LoadedBundle;
  /** The bundle's verified files, for worker threads that load their own model from them. */
  readonly files: BundleFiles;
  readonly origin: BundleOrigin;
}

/** A loaded bundle with the files it was loaded from. */
interface CachedBundle {
  readonly bundle: LoadedBundle;
  readonly files: BundleFiles;
}


/**
 * Resolves a model's champion bundle: the S3 registry's champion, else the bundled models shipped
 * with the function. Loaded models are kept per version for the life of the (warm) Lambda
 * container, so only the small `champion.json` is read per run; versions are immutable, so a
 * cached model never goes stale, and promoting a new champion takes effect on the next run.
 */
export class ChampionBundles {
  private readonly loaded = new Map<string, Promise<CachedBundle>>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly bundled?: ModelRegistry,
    /** Models kept loaded at once; the least recently used is disposed beyond this. */
    private readonly capacity = 4,
  ) {}

  /**
   * @throws BundleError BUNDLE_NOT_FOUND when neither registry has the model; any other bundle error
   *   (hash mismatch, invalid manifest) as is, never masked by the fallback.
   */
  async resolve(model: string): Promise<ResolvedBundle> {
    const version = await this.registry.champion(model);
    if (version !== undefined) return { ...(await this.load('registry', this.registry, model, version)), origin: 'registry' };
    if (!this.bundled) {
      throw new BundleError('BUNDLE_NOT_FOUND', 'no champion in the registry and no bundled models', { bundle: model });
    }
    const bundledVersion = await this.bundled.champion(model).catch(() => undefined);
    try {
      return { ...(await this.load('bundled', this.bundled, model, bundledVersion)), origin: 'bundled' };
    } catch (error) {
      if (isBundleNotFound(error)) {
        throw new BundleError('BUNDLE_NOT_FOUND', 'no champion in the registry and no bundled model of that name', { bundle: model, cause: error });
      }
      throw error;
    }
  }

  /** Disposes every loaded model (tests, and the demo on exit). */
  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((p) => p.then((b) => b.bundle.model.dispose()).catch(() => undefined)));
  }

  private load(origin: BundleOrigin, registry: ModelRegistry, model: string, version: string | undefined): Promise<CachedBundle> {
    const cacheKey = `${origin}:${model}@${version ?? 'latest'}`;
    let entry = this.loaded.get(cacheKey);
    if (entry) {
      // Re-insert: Map order is the recency order for eviction.
      this.loaded.delete(cacheKey);
      this.loaded.set(cacheKey, entry);
      return entry;
    }
    entry = registry.read(model, version).then(async (files) => ({ files, bundle: await loadBundle(files, loadModel) }));
    this.loaded.set(cacheKey, entry);
    // A failed load must not stay cached: the next run should try again.
    entry.catch(() => this.loaded.get(cacheKey) === entry && this.loaded.delete(cacheKey));
    while (this.loaded.size > this.capacity) {
      const [oldestKey, oldest] = this.loaded.entries().next().value!;
      this.loaded.delete(oldestKey);
      void oldest.then((b) => b.bundle.model.dispose()).catch(() => undefined);
    }
    return entry;
  }
}
