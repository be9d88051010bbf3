import { S3Client } from '@aws-sdk/client-s3';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import type { ModelRegistry } from '../core/bundle/registry.js';
import { BUNDLED_MODEL_STORE } from './resolveBundle.js';

/**
 * The registry a person names after `--registry`: a folder (a filesystem registry), or
 * `s3://bucket/prefix/` (the deployed registry, with the SDK's usual credentials and region;
 * `AWS_ENDPOINT_URL` points it at an S3-compatible server such as the embedded one).
 * Without one, the bundled models in `model-store/`.
 */
export function openRegistry(reference: string | undefined): { registry: ModelRegistry; location: string } {
  if (!reference) return { registry: new FsRegistry(BUNDLED_MODEL_STORE), location: BUNDLED_MODEL_STORE };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(reference);
  if (!s3) return { registry: new FsRegistry(reference), location: reference };
  // Path-style addressing for an S3-compatible endpoint: those rarely serve bucket subdomains.
  const client = new S3Client(process.env.AWS_ENDPOINT_URL ? { forcePathStyle: true } : {});
  return { registry: new S3Registry(client, s3[1]!, s3[2] ?? ''), location: reference };
}
