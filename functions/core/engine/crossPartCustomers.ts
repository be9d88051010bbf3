import { heapDropHead, heapPush, heapSiftDown } from './binaryHeap.js';
import { compareCodePoints } from '../extract/closedCustomerIds.js';
import { customerNotConsecutiveError, type LongCustomerReader } from '../extract/longLayout.js';
import { MERGE_CHUNK_BYTES, spoolLine, unspoolLine, type Spool, type SpoolChannel } from './spool.js';
import { lineBatches, writeText } from './textStreams.js';

/**
 * A long extract scored in parts: each part refuses a customer that comes back within the part, but
 * only the merge sees a customer whose blocks landed in two parts. Each part spools its customers in
 * the channel {@link CUSTOMER_IDS_CHANNEL}, ids sorted by UTF-8 bytes, one line each:
 * `<first line>,<last line>,<id, spool-escaped>`; the merge reads every part's channel at once
 * (k-way merge, one chunk of {@link MERGE_CHUNK_BYTES} per part in memory) and refuses the file as a single pass would.
 *
 * Cost per million customers (10-byte ids, measured on a shared 2-core machine; README "Sequence
 * models"): ~27 MB of spool (the id and two line numbers per customer), 0.7–0.8 s to sort and write it
 * in the parts, ~0.5 s to merge it (2 or 4 parts alike). A whole-file pass writes none of it
 * (`customerIds: false`): its reader refuses a repeat itself.
 */
export const CUSTOMER_IDS_CHANNEL: SpoolChannel = 'customer-ids';

/** Lines written per spool write. */
const WRITE_LINES = 4096;

/** Writes the reader's customers (all read: after its last batch) to the part's spool, sorted. */
export async function spoolCustomerIds(long: LongCustomerReader, spool: Spool): Promise<SpoolChannel> {
  const out = spool.open(CUSTOMER_IDS_CHANNEL);
  let text = '';
  let n = 0;
  for (const { id, firstLine, lastLine } of long.closedCustomers()) {
    text += `${firstLine},${lastLine},${spoolLine(id)}\n`;
    if (++n === WRITE_LINES) {
      await writeText(out, text);
      text = '';
      n = 0;
    }
  }
  if (text) await writeText(out, text);
  out.end();
  return CUSTOMER_IDS_CHANNEL;
}

/** One part's sorted customers, as the merge reads them. */
export interface CustomerIdSource {
  readonly spool: Spool;
  readonly channel: SpoolChannel;
}

interface Head {
  readonly part: number;
  id: string;
  firstLine: number;
  lastLine: number;
  batch: string[];
  at: number;
  readonly batches: AsyncIterator<string[]>;
}

/**
 * Refuses a long extract scored in parts (given in file order) when a customer has rows in two of
 * them, with the error the reader of a single pass throws (`customerNotConsecutiveError`): of all
 * such customers, the one whose second block starts earliest in the file, naming its first block's
 * lines and that start. Reads every part's channel to its end (memory: about two 64 KiB chunks per part).
 *
 * @throws ExtractError EXTRACT_CUSTOMER_NOT_CONSECUTIVE
 * @example await assertCustomersInOnePart(parts.map((p) => ({ spool: p.spool, channel: p.customerIds! })), file, 'customer_id');
 */
export async function assertCustomersInOnePart(parts: readonly CustomerIdSource[], source: string, idName: string): Promise<void> {
  const heads: Head[] = [];
  const heap: Head[] = [];
  try {
    for (const [part, { spool, channel }] of parts.entries()) {
      const head: Head = { part, id: '', firstLine: 0, lastLine: 0, batch: [], at: 0, batches: lineBatches(spool.bytes(channel, { chunkBytes: MERGE_CHUNK_BYTES }))[Symbol.asyncIterator]() };
      heads.push(head);
      if (await advance(head, source)) heapPush(heap, head, before);
    }
    // The customer being grouped: its block in the earliest part, and whether a later part had it.
    let id: string | null = null;
    let first = { firstLine: 0, lastLine: 0 };
    let repeated = false;
    let found: { earlier: { firstLine: number; lastLine: number }; line: number } | null = null;
    while (heap.length > 0) {
      const head = heap[0]!;
      if (head.id === id) {
        // Parts pop in file order within one id: the first repeat is the block a single pass meets next.
        if (!repeated && (found === null || head.firstLine < found.line)) found = { earlier: first, line: head.firstLine };
        repeated = true;
      } else {
        id = head.id;
        first = { firstLine: head.firstLine, lastLine: head.lastLine };
        repeated = false;
      }
      if (await advance(head, source)) heapSiftDown(heap, 0, before);
      else heapDropHead(heap, before);
    }
    if (found) throw customerNotConsecutiveError(source, idName, found.earlier, found.line);
  } finally {
    // Closes the channels a failure left open (a finished one ignores it).
    for (const head of heads) await head.batches.return?.(undefined);
  }
}

/** Moves a part's head to its next customer; false at the end of its channel. */
async function advance(head: Head, source: string): Promise<boolean> {
  while (head.at >= head.batch.length) {
    const next = await head.batches.next();
    if (next.done) return false;
    head.batch = next.value;
    head.at = 0;
  }
  const line = head.batch[head.at++]!;
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  if (a < 0 || b < 0 || !(Number(line.slice(0, a)) > 0)) throw new Error(`${source}: part ${head.part + 1} spooled a malformed customer line`);
  const id = unspoolLine(line.slice(b + 1));
  // Unsorted ids would let a repeat pass unseen: the merge trusts the order, so it checks it.
  if (head.firstLine > 0 && compareCodePoints(head.id, id) >= 0) throw new Error(`${source}: part ${head.part + 1} spooled its customers out of order`);
  head.firstLine = Number(line.slice(0, a));
  head.lastLine = Number(line.slice(a + 1, b));
  head.id = id;
  return true;
}

/** Heap order: id (code points = UTF-8 bytes, as the parts sorted), then part (file order). */
function before(x: Head, y: Head): boolean {
  const d = compareCodePoints(x.id, y.id);
  return d < 0 || (d === 0 && x.part < y.part);
}
