/**
 * UTF-8 checks for the extract reader. The fast check (`isUtf8`, native) runs on every chunk; the
 * slow byte-by-byte scan below only runs once a chunk has failed, to say where.
 */

/**
 * End of the bytes in `buf[from, to)` that can be checked now: a multi-byte sequence cut by the
 * chunk boundary is left for the next chunk. Returns `to` when the chunk ends on a whole character.
 */
export function completeUtf8End(buf: Uint8Array, from: number, to: number): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  for (let back = 1; back <= 4 && to - back >= from; back++) {
    const byte = buf[to - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? to - back : to;
  }
  return to;
}

/**
 * Index of the first byte in `buf[from, to)` that starts an invalid UTF-8 sequence (a stray
 * continuation byte, an overlong form, a surrogate, a code point above U+10FFFF or a sequence cut
 * short by `to`), or -1 when every byte is valid.
 */
export function firstInvalidUtf8(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const lead = buf[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0; // overlong
      if (lead === 0xed) high = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90; // overlong
      if (lead === 0xf4) high = 0x8f; // above U+10FFFF
    } else return i;
    if (i + length > to) return i;
    const second = buf[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return -1;
}
