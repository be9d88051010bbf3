import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../functions/core/errors.js';
import { ChampionCache } from '../../../functions/core/predict/championCache.js';

/** A registry stand-in: the champion of each model, and every resolve call it saw. */
function champions(initial: Record<string, string>) {
  const current = new Map(Object.entries(initial));
  const calls: string[] = [];
  let failWith: Error | undefined;
  return {
    current,
    calls,
    fail(error: Error) {
      failWith = error;
    },
    resolve: (model: string): Promise<string> => {
      calls.push(model);
      if (failWith) return Promise.reject(failWith);
      const version = current.get(model);
      return version ? Promise.resolve(version) : Promise.reject(new BundleError('BUNDLE_NOT_FOUND', 'no champion', { bundle: model }));
    },
  };
}

describe('ChampionCache', () => {
  it('resolves once, serves from memory within the TTL and resolves again after it', async () => {
    let now = 0;
    const registry = champions({ m: 'v1' });
    const cache = new ChampionCache(registry.resolve, { ttlMs: 1000, now: () => now });
    expect(await cache.get('m')).toBe('v1');
    registry.current.set('m', 'v2');
    now = 999;
    expect(await cache.get('m')).toBe('v1');
    now = 1000;
    expect(await cache.get('m')).toBe('v2');
    now = 1999;
    expect(await cache.get('m')).toBe('v2');
    expect(registry.calls).toEqual(['m', 'm']);
  });

  it('shares one resolve between concurrent requests, first load and re-check alike', async () => {
    let now = 0;
    const registry = champions({ m: 'v1' });
    const cache = new ChampionCache(registry.resolve, { ttlMs: 10, now: () => now });
    expect(await Promise.all([cache.get('m'), cache.get('m'), cache.get('m')])).toEqual(['v1', 'v1', 'v1']);
    now = 10;
    expect(await Promise.all([cache.get('m'), cache.get('m')])).toEqual(['v1', 'v1']);
    expect(registry.calls).toEqual(['m', 'm']);
  });

  it('does not keep a failed first load, and passes "no such model" on', async () => {
    const registry = champions({});
    const cache = new ChampionCache(registry.resolve, { ttlMs: 1000, now: () => 0 });
    await expect(cache.get('m')).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND' });
    registry.current.set('m', 'v1');
    expect(await cache.get('m')).toBe('v1');
  });

  it('keeps serving the loaded champion when a re-check fails (S3 down), and reports it', async () => {
    let now = 0;
    const registry = champions({ m: 'v1' });
    const failures: string[] = [];
    const cache = new ChampionCache(registry.resolve, { ttlMs: 100, now: () => now, onRefreshError: (model, error) => failures.push(`${model}: ${(error as Error).message}`) });
    await cache.get('m');
    registry.fail(new Error('socket hang up'));
    now = 100;
    expect(await cache.get('m')).toBe('v1');
    expect(failures).toEqual(['m: socket hang up']);
    // The next re-check waits for another TTL.
    now = 150;
    expect(await cache.get('m')).toBe('v1');
    expect(registry.calls).toHaveLength(2);
  });

  it('stops serving a model whose champion is gone', async () => {
    let now = 0;
    const registry = champions({ m: 'v1' });
    const cache = new ChampionCache(registry.resolve, { ttlMs: 100, now: () => now });
    await cache.get('m');
    registry.current.delete('m');
    now = 100;
    await expect(cache.get('m')).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND' });
    await expect(cache.get('m')).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND' });
  });
});
