/**
 * A binary min-heap in a plain array, for the k-way merges of spooled sorted channels (the target
 * list's ranked runs, the customers of a long extract's parts): `before(a, b)` is the order, the
 * head (`heap[0]`) the first item.
 */
export type HeapOrder<T> = (a: T, b: T) => boolean;

export function heapPush<T>(heap: T[], item: T, before: HeapOrder<T>): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

/** Restores the order after the item at `i` (the head, once it moved on) may have become later. */
export function heapSiftDown<T>(heap: T[], i: number, before: HeapOrder<T>): void {
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let best = i;
    if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
    if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
    if (best === i) return;
    [heap[i], heap[best]] = [heap[best]!, heap[i]!];
    i = best;
  }
}

/** Removes the head (its channel is done). */
export function heapDropHead<T>(heap: T[], before: HeapOrder<T>): void {
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    heapSiftDown(heap, 0, before);
  }
}
