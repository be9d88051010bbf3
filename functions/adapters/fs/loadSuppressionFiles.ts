import { createReadStream } from 'node:fs';
import { SuppressionSetBuilder, type SuppressionSet } from '../../core/policy/suppressionList.js';

/**
 * Reads local suppression lists (`--suppress FILE`, repeatable) into one set, as of `asOf` (an
 * entry whose `until` lies before that day does not suppress).
 * @throws SuppressionError naming the file (and line, column) that cannot be read
 */
export async function loadSuppressionFiles(files: readonly string[], asOf: Date): Promise<SuppressionSet> {
  const builder = new SuppressionSetBuilder(asOf);
  for (const file of files) await builder.addList(createReadStream(file), file);
  return builder.build();
}
