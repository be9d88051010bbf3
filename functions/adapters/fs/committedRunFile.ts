import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../../core/bundle/bundle.js';
import { DriftError } from '../../core/errors.js';
import { SUCCESS_FILE } from './localOutputTarget.js';

/**
 * Reads one output of a finished local run: the run folder must hold a `_SUCCESS` that lists the
 * file, and the file must still have the sha256 recorded there. A failed, unfinished or since-edited
 * run is refused, so nothing reads outputs that only look complete.
 * @throws DriftError naming the run folder and what is wrong.
 * @example const text = await readCommittedRunFile('/tmp/run-1', 'profile.json');
 */
export async function readCommittedRunFile(runDir: string, name: string): Promise<string> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(path.join(runDir, SUCCESS_FILE), 'utf8'));
  } catch (cause) {
    throw new DriftError(`${runDir}: not a finished run (no readable ${SUCCESS_FILE}); only runs that completed are read`, { cause });
  }
  const files = (manifest as { files?: unknown } | null)?.files;
  const listed = Array.isArray(files) ? (files as Array<{ name?: unknown; sha256?: unknown }>).find((f) => f?.name === name) : undefined;
  if (!listed || typeof listed.sha256 !== 'string') throw new DriftError(`${runDir}: ${SUCCESS_FILE} does not list ${name}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(runDir, name));
  } catch (cause) {
    throw new DriftError(`${runDir}: ${name} listed in ${SUCCESS_FILE} is missing`, { cause });
  }
  if (sha256Hex(bytes) !== listed.sha256) throw new DriftError(`${runDir}: ${name} no longer matches the sha256 its ${SUCCESS_FILE} records`);
  return bytes.toString('utf8');
}
