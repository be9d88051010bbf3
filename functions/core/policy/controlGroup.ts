import { createHash } from 'node:crypto';

/**
 * The control group: a share of the *selected* customers held out of the campaign, so that realized
 * response can be compared between treated and untreated customers. Membership depends only on the
 * id (as written in targets.csv) and the campaign's salt, never on the run, the part or the order:
 * reruns and `--parts N` hold out the same customers, and one customer stays in (or out of) control
 * across runs of the same campaign.
 *
 * @example inControlGroup('12345', 'spring-2027', 0.1) // true for about one id in ten
 */
export function inControlGroup(id: string, salt: string, fraction: number): boolean {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  return controlDraw(id, salt) < fraction;
}

/** A uniform draw in [0, 1) from sha256(salt, NUL, id): its first 48 bits. */
export function controlDraw(id: string, salt: string): number {
  const digest = createHash('sha256').update(salt).update('\0').update(id).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
