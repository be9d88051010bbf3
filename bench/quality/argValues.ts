/**
 * The values after `flag` on the command line, up to the next `--flag`.
 * @example
 * // npx tsx runQuality.ts --only bank-marketing audiobooks --no-write
 * argValues('--only') // → ['bank-marketing', 'audiobooks']
 */
export function argValues(flag: string): string[] {
  const out: string[] = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== flag) continue;
    for (let j = i + 1; j < args.length && !args[j]!.startsWith('--'); j++) out.push(args[j]!);
  }
  return out;
}
