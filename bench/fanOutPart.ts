/**
 * Seconds and peak memory of one fan-out part of ~256 MiB (the default PART_BYTES): the part
 * function's work without the network, i.e. a ranged read of a later part, scorePart with the
 * plan's layout, and the spool written to the local temp folder. Prints figures; never a test.
 *
 *   npx tsx bench/fanOutPart.ts [source.csv] [partMiB]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { FsRegistry } from '../functions/adapters/fs/fsRegistry.js';
import { localByteRanges } from '../functions/adapters/fs/localByteRanges.js';
import { tempFileSpool } from '../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../functions/adapters/model/modelLoader.js';
import { resolveEconomics } from '../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../functions/core/engine/loadBundle.js';
import { readExtractLayout, scorePart } from '../functions/core/engine/scorePart.js';
import { planParts } from '../functions/core/extract/planParts.js';
import { findBundledModelsDir } from '../functions/score/config.js';

const source = process.argv[2] ?? '/work/shared/datasets/bank-marketing/bank-full.csv';
const partBytes = Number(process.argv[3] ?? 256) * 1024 ** 2;
const work = await mkdtemp(path.join(tmpdir(), 'propensity-bench-part-'));
try {
  // Two parts' worth of the real rows, repeated: the measured part is the second (a later part, with the plan's layout).
  const text = await readFile(source, 'utf8');
  const newline = text.indexOf('\n') + 1;
  const header = text.slice(0, newline);
  const body = text.slice(newline);
  const file = path.join(work, 'extract.csv');
  const out = createWriteStream(file);
  out.write(header);
  for (let written = 0; written < 2 * partBytes; written += body.length) if (!out.write(body)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  out.end();
  await finished(out);
  const size = (await stat(file)).size;

  const bundle = await loadBundle(await new FsRegistry(findBundledModelsDir()!).read('bank-marketing'), loadModel);
  const economics = resolveEconomics(bundle.manifest.economics);
  const ranges = await planParts(await localByteRanges(file), Math.max(2, Math.round(size / partBytes)));
  const layout = await readExtractLayout(createReadStream(file, { end: 1 << 16 }), bundle, file);
  const part = ranges[1]!;
  const rssBefore = process.resourceUsage().maxRSS;
  const started = performance.now();
  const scored = await scorePart({
    input: createReadStream(file, { start: part.start, end: part.end - 1 }),
    source: file,
    bundle,
    economics,
    spool: tempFileSpool(),
    layoutCheck: false,
    part: { ...layout, firstLine: part.firstLine },
  });
  const seconds = (performance.now() - started) / 1000;
  const dir = (scored.spool as unknown as { dir: string }).dir;
  const spoolBytes = (await stat(path.join(dir, 'scores.spool'))).size + (await stat(path.join(dir, 'rejects.spool'))).size;
  await scored.spool.dispose();
  await bundle.model.dispose();
  const mib = (part.end - part.start) / 1024 ** 2;
  console.log(JSON.stringify({
    partMiB: Number(mib.toFixed(1)),
    parts: ranges.length,
    rows: scored.rowsRead,
    seconds: Number(seconds.toFixed(1)),
    rowsPerSecond: Math.round(scored.rowsRead / seconds),
    spoolMiB: Number((spoolBytes / 1024 ** 2).toFixed(1)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforePartMiB: Math.round(rssBefore / 1024),
    node: process.version,
  }));
} finally {
  await rm(work, { recursive: true, force: true });
}
