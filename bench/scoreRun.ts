/**
 * One scoring run of the bench, in a process of its own (so its peak RSS is the run's): the CLI's
 * path, on `workers` threads. `bench/throughput.ts` runs it from source (tsx, as `npx propensity`
 * does) and bundled by esbuild with the Lambda's settings (as the score function runs it).
 *
 *   node --import tsx bench/scoreRun.ts <bundle dir> <extract> <out dir> <workers>
 *
 * Prints one JSON line: rows scored, seconds (bundle load included), peak RSS in MiB.
 */
import { createReadStream } from 'node:fs';
import { LocalOutputTarget } from '../functions/adapters/fs/localOutputTarget.js';
import { localByteRanges } from '../functions/adapters/fs/localByteRanges.js';
import { readBundleDir } from '../functions/adapters/fs/bundleDir.js';
import { tempFileSpool } from '../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../functions/adapters/model/modelLoader.js';
import { scoreInParts } from '../functions/adapters/workers/scoreInParts.js';
import { resolveEconomics } from '../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../functions/core/engine/scoreExtract.js';

const [bundleDir, input, out, workerArg] = process.argv.slice(2);
if (!bundleDir || !input || !out || !workerArg) throw new Error('usage: scoreRun <bundle dir> <extract> <out dir> <workers>');
const workers = Number(workerArg);

const t0 = performance.now();
const files = await readBundleDir(bundleDir);
// As the CLI: a run on worker threads leaves the model to them.
const bundle = await loadBundle(files, loadModel, { modelOnFirstUse: workers > 1 });
const t1 = performance.now();
const run = { input: createReadStream(input), source: input, bundle, economics: resolveEconomics(files.manifest.economics), spool: tempFileSpool(), output: new LocalOutputTarget(out) };
const { summary } =
  workers === 1
    ? await scoreExtract(run)
    : await scoreInParts({ ...run, extract: { kind: 'file', file: input }, bytes: () => localByteRanges(input), bundleFiles: files, workers, parts: workers });
const t2 = performance.now();
await bundle.model.dispose();
process.stdout.write(
  `${JSON.stringify({ rows: summary.rows.scored, seconds_total: (t2 - t0) / 1000, seconds_load: (t1 - t0) / 1000, peak_rss_mib: process.resourceUsage().maxRSS / 1024 })}\n`,
);
