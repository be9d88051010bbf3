import { isBundleNotFound } from '../errors.js';

/** How often a warm container asks the registry which version is the champion (CHAMPION_TTL_SECONDS). */
export const DEFAULT_CHAMPION_TTL_SECONDS = 300;

export interface ChampionCacheOptions {
  /** How long a resolved champion is served before the registry is asked again. */
  readonly ttlMs: number;
  /** Milliseconds since the epoch; tests pass a clock they move by hand. @default Date.now */
  readonly now?: () => number;
  /** A re-check failed for a reason other than "no such model": the old champion is kept meanwhile. */
  readonly onRefreshError?: (model: string, error: unknown) => void;
}

interface Entry<T> {
  readonly value: Promise<T>;
  readonly checkedAt: number;
  refreshing?: Promise<T>;
}


/**
 * Each model's champion, resolved once and served from memory for `ttlMs`, then resolved again (the
 * champion alias is one small read; an unchanged version comes back from the loader's own cache), so
 * a promotion reaches a warm container within the TTL without a redeploy. Requests arriving while a
 * re-check runs share it. A failed first load is not kept; a failed re-check keeps serving the old
 * champion until the next TTL, except when the model is gone (BUNDLE_NOT_FOUND), which is passed on.
 *
 * @example
 * const champions = new ChampionCache((model) => bundles.resolve(model), { ttlMs: 300_000 });
 * const { bundle } = await champions.get('bank-marketing');
 */
export class ChampionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(
    private readonly resolve: (model: string) => Promise<T>,
    private readonly options: ChampionCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get(model: string): Promise<T> {
    const entry = this.entries.get(model);
    if (!entry) return this.load(model);
    if (this.now() - entry.checkedAt < this.options.ttlMs) return entry.value;
    entry.refreshing ??= this.refresh(model, entry);
    return entry.refreshing;
  }

  private load(model: string): Promise<T> {
    const value = this.resolve(model);
    const entry: Entry<T> = { value, checkedAt: this.now() };
    this.entries.set(model, entry);
    value.catch(() => this.entries.get(model) === entry && this.entries.delete(model));
    return value;
  }

  private async refresh(model: string, stale: Entry<T>): Promise<T> {
    try {
      const value = await this.resolve(model);
      this.entries.set(model, { value: Promise.resolve(value), checkedAt: this.now() });
      return value;
    } catch (error) {
      if (isBundleNotFound(error)) {
        if (this.entries.get(model) === stale) this.entries.delete(model);
        throw error;
      }
      this.options.onRefreshError?.(model, error);
      this.entries.set(model, { value: stale.value, checkedAt: this.now() });
      return stale.value;
    }
  }
}
