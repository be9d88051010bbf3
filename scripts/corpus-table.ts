/**
 * Writes the README's bad-input corpus table from `test/corpus/cases/`, between the
 * `<!-- corpus-table:start -->` and `<!-- corpus-table:end -->` markers.
 *
 * @example npx tsx scripts/corpus-table.ts           # rewrite README.md
 * @example npx tsx scripts/corpus-table.ts --print   # print the table only
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { corpusTable } from '../test/corpus/corpusCase.js';
import { REPO_ROOT } from '../test/corpus/corpusRun.js';

const START = '<!-- corpus-table:start -->';
const END = '<!-- corpus-table:end -->';

const table = corpusTable();
if (process.argv.includes('--print')) process.stdout.write(`${table}\n`);
else {
  const readme = path.join(REPO_ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} section`);
  writeFileSync(readme, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
}
