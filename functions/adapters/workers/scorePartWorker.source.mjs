// The worker thread's entry when Propensity runs from its TypeScript source (the CLI through tsx,
// vitest): a worker does not inherit the main thread's tsx loader, so it registers its own. A Lambda
// asset runs the esbuild bundle of scorePartWorker.ts instead (scorePartWorker.mjs beside the handler).
import { register } from 'tsx/esm/api';

register();
await import('./scorePartWorker.ts');
