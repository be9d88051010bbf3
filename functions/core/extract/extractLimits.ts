/**
 * How much of an extract a run reads before it refuses the file with `EXTRACT_TOO_LARGE`. A few
 * MB of gzip can expand to GBs of blank lines or rows; these bounds stop that early, counting the
 * decompressed bytes as they stream (never the file's size). The defaults are far above any real
 * customer extract; a run can set each one (CLI `--max-bytes`, `--max-rows`, `--max-record-bytes`;
 * Lambda `MAX_EXTRACT_BYTES`, `MAX_EXTRACT_ROWS`, `MAX_RECORD_BYTES`).
 */
export interface ExtractLimits {
  /** Decompressed bytes read, blank lines included. @default 20 GiB */
  readonly maxBytes: number;
  /** Lines read (records, rejects, blank lines and the header: each physical line counts). @default 200 million */
  readonly maxRows: number;
  /** Bytes of one record (a quoted field may span lines); a longer one refuses the file. @default 1 MiB */
  readonly maxRecordBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = Object.freeze({
  maxBytes: 20 * 1024 ** 3,
  maxRows: 200_000_000,
  maxRecordBytes: 1024 ** 2,
});

/** The defaults with a run's own limits over them. */
export function resolveExtractLimits(limits: Partial<ExtractLimits> | undefined): ExtractLimits {
  return { ...DEFAULT_EXTRACT_LIMITS, ...Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)) };
}

/** `20 GiB`, `1 MiB`, `512 bytes`: the unit that gives a short exact-ish figure. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}

/** Which limit an extract went past, its value, in words for the error message. */
export function describeLimit(limit: keyof ExtractLimits, value: number): string {
  switch (limit) {
    case 'maxBytes':
      return `more than ${formatBytes(value)} of (decompressed) data, the limit maxBytes`;
    case 'maxRows':
      return `more than ${value.toLocaleString('en-US')} lines (blank lines count), the limit maxRows`;
    case 'maxRecordBytes':
      return `a record longer than ${formatBytes(value)}, the limit maxRecordBytes (a quoted field is probably never closed, or this is not a delimited text file)`;
  }
}
