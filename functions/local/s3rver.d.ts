// s3rver 3.7 ships no types; this declares only what the embedded server wrapper uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  /** The few fields of Koa's context the embedded server's own middleware uses. */
  interface KoaContext {
    readonly path: string;
    status: number;
    type: string;
    body: unknown;
  }

  /** S3rver is a Koa application: `middleware` is Koa's list, composed when the server starts. */
  class S3rver {
    constructor(options?: S3rverOptions);
    middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => unknown>;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: { Records: unknown[] }) => void): this;
    off(event: 'event', listener: (event: { Records: unknown[] }) => void): this;
  }

  export default S3rver;
}
