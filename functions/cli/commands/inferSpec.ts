import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { inferSpec } from '../../core/extract/inferSpec.js';

/** `propensity infer-spec`: a draft feature spec for a person to edit, with the reasons on stderr. */
export async function inferSpecCommand(file: string, options: { out?: string; sampleRows?: number }): Promise<void> {
  const { spec, notes } = await inferSpec(createReadStream(file), { source: file, ...(options.sampleRows ? { sampleRows: options.sampleRows } : {}) });
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  if (options.out) await writeFile(options.out, text);
  else process.stdout.write(text);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
}
