import type { ModelRegistry } from '../bundle/registry.js';
import { ConfigError } from '../errors.js';

/** Reasons of rollbacks start with this, so a later rollback steps over them. */
export const ROLLBACK_PREFIX = 'rollback: ';

/**
 * `propensity promote`: makes a version the champion by hand. The bundle is read first, so a
 * version whose files fail their hashes is never promoted.
 * @throws BundleError BUNDLE_NOT_FOUND / BUNDLE_HASH_MISMATCH from the registry.
 */
export async function promoteVersion(registry: ModelRegistry, name: string, version: string, reason: string): Promise<void> {
  await registry.read(name, version);
  await registry.promote(name, version, `manual: ${reason}`);
}

/**
 * The champions in force, oldest first, replaying the promotion history: a promotion pushes a
 * version, a rollback pops the one it undid. The last entry is the current champion.
 */
export function championStack(history: ReadonlyArray<{ readonly version: string; readonly reason: string }>): string[] {
  const stack: string[] = [];
  for (const record of history) {
    if (record.reason.startsWith(ROLLBACK_PREFIX)) stack.pop();
    else stack.push(record.version);
  }
  return stack;
}

/**
 * `propensity rollback`: makes the champion before the current one champion again. Repeated
 * rollbacks walk further back (A → B → C, rollback → B, rollback → A) rather than toggling.
 *
 * @returns the version that is champion now.
 * @throws ConfigError USAGE when there is no earlier champion.
 */
export async function rollbackChampion(registry: ModelRegistry, name: string, reason: string): Promise<string> {
  const stack = championStack(await registry.history(name));
  const current = stack.at(-1);
  const previous = stack.at(-2);
  if (!current || !previous) {
    throw new ConfigError('USAGE', `no earlier champion to roll back to${current ? ` (only ${current} was ever promoted)` : ''}`, { key: name, source: 'rollback' });
  }
  await registry.read(name, previous);
  await registry.promote(name, previous, `${ROLLBACK_PREFIX}${reason} (from ${current})`);
  return previous;
}
