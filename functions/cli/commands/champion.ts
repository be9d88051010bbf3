import { promoteVersion, rollbackChampion } from '../../core/retrain/championControl.js';
import { openRegistry } from '../openRegistry.js';

/** `propensity promote`: makes a version of a model the champion, by hand. */
export async function promoteCommand(options: { registry?: string; model: string; version: string; reason: string }): Promise<string> {
  const { registry, location } = openRegistry(options.registry);
  await promoteVersion(registry, options.model, options.version, options.reason);
  return `${options.model}: champion is now ${options.version} (${location})\n`;
}

/** `propensity rollback`: makes the champion before the current one champion again. */
export async function rollbackCommand(options: { registry?: string; model: string; reason: string }): Promise<string> {
  const { registry, location } = openRegistry(options.registry);
  const before = await registry.champion(options.model);
  const now = await rollbackChampion(registry, options.model, options.reason);
  return `${options.model}: champion rolled back from ${before} to ${now} (${location})\n`;
}
