import { describe, expect, it } from 'vitest';
import { detectDelimiter } from '../../../functions/core/extract/detectDelimiter.js';
import { completeUtf8End, firstInvalidUtf8 } from '../../../functions/core/extract/utf8.js';

describe('detectDelimiter', () => {
  it.each([
    ['comma', 'a,b,c\n1,2,3\n4,5,6\n', ',', 3],
    ['semicolon with quoted strings (bank-marketing)', '"age";"job"\n58;"management"\n44;"technician"\n', ';', 2],
    ['tab', 'a\tb\n1\t2\n', '\t', 2],
    ['pipe', 'a|b|c|d\n1|2|3|4\n', '|', 4],
  ])('finds the %s delimiter', (_, sample, delimiter, fieldCount) => {
    expect(detectDelimiter(sample)).toMatchObject({ delimiter, fieldCount, consistency: 1 });
  });

  it('ignores delimiters inside quotes, even across lines', () => {
    const guess = detectDelimiter('name,note\n"Smith; John","a;b;c\nd;e"\n"Doe; Jane",x\n');

    expect(guess).toEqual({ delimiter: ',', fieldCount: 2, consistency: 1, records: 3 });
  });

  it('prefers the consistent candidate over one that gives more fields on some lines', () => {
    const guess = detectDelimiter('id;text\n1;a,b,c\n2;d\n3;e,f\n');

    expect(guess.delimiter).toBe(';');
    expect(guess.consistency).toBe(1);
  });

  it('takes ";" over "," when numbers have decimal commas and both fit', () => {
    expect(detectDelimiter('id;amount\n1;2,5\n2;3,75\n').delimiter).toBe(';');
  });

  it('falls back to "," with one field when nothing splits the lines', () => {
    expect(detectDelimiter('justone\nvalue\n')).toEqual({ delimiter: ',', fieldCount: 1, consistency: 1, records: 2 });
  });
});

describe('UTF-8 helpers', () => {
  it('firstInvalidUtf8 points at the start of the first bad sequence', () => {
    const cases: Array<[number[], number]> = [
      [[0x61, 0xc3, 0xa9, 0x62], -1], // aéb
      [[0x61, 0xe9, 0x62], 1], // Latin-1 é
      [[0xc0, 0x80], 0], // overlong NUL
      [[0x61, 0xed, 0xa0, 0x80], 1], // surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x61, 0xe2, 0x82], 1], // cut short
      [[0x80], 0], // stray continuation byte
      [[0xf0, 0x9f, 0x98, 0x80], -1], // 😀
    ];
    for (const [bytes, expected] of cases) expect(firstInvalidUtf8(Uint8Array.from(bytes), 0, bytes.length), bytes.join(' ')).toBe(expected);
  });

  it('completeUtf8End leaves a sequence cut by the chunk end for the next chunk', () => {
    const euro = [0xe2, 0x82, 0xac];
    expect(completeUtf8End(Uint8Array.from([0x61, ...euro]), 0, 4)).toBe(4);
    expect(completeUtf8End(Uint8Array.from([0x61, 0xe2, 0x82]), 0, 3)).toBe(1);
    expect(completeUtf8End(Uint8Array.from([0x61, 0xe2]), 0, 2)).toBe(1);
    expect(completeUtf8End(Uint8Array.from([0x61, 0x62]), 0, 2)).toBe(2);
  });
});
