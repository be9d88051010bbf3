import { createReadStream } from 'node:fs';
import { writeJsonAtomic } from '../../adapters/fs/fsRegistry.js';
import path from 'node:path';
import { createBundle } from '../../core/bundle/bundle.js';
import { MANIFEST_FILE } from '../../core/bundle/bundleManifest.js';
import { buildSampleBaseline } from '../../core/drift/sampleBaseline.js';
import { loadBundle } from '../../core/engine/loadBundle.js';
import { loadModel } from '../../adapters/model/modelLoader.js';
import { resolveBundle } from '../resolveBundle.js';

/**
 * `propensity baseline BUNDLE --data SAMPLE.csv`: builds the drift baseline of a bundle (an imported
 * model has none) from a sample extract and writes it into the bundle's manifest, as `train` does:
 * the manifest is validated again and replaced atomically; the files it lists (and their sha256s)
 * do not change. A local bundle folder or registry model folder (its champion, else its latest version).
 * @returns the lines to print.
 */
export async function baselineCommand(reference: string, options: { data: string }): Promise<string> {
  const files = await resolveBundle(reference);
  const loaded = await loadBundle(files, loadModel);
  let result;
  try {
    result = await buildSampleBaseline(loaded, createReadStream(options.data), options.data);
  } finally {
    await loaded.model.dispose();
  }
  const { manifest } = files;
  // createBundle hashes the same files again and validates the manifest with its baseline.
  const updated = createBundle({ ...manifest, baseline: result.baseline }, files.files);
  const target = path.join(files.location, MANIFEST_FILE);
  await writeJsonAtomic(target, updated.manifest);
  const { features, score } = result.baseline;
  return (
    `${manifest.name}@${manifest.version}: baseline ${result.baseline.id} from ${result.rows} rows of ${options.data}` +
    `${result.rejected > 0 ? ` (${result.rejected} refused)` : ''}: ${features.length} features, score mean ${score ? score.mean.toFixed(4) : 'n/a'}; written to ${target}\n`
  );
}
