import { EMBEDDED_S3_CREDENTIALS, EMBEDDED_S3_REGION, type EmbeddedS3 } from '../../functions/local/embeddedS3.js';

// The integration tests use the same embedded S3 wrapper as `npm start`.
export {
  startEmbeddedS3,
  createEmbeddedS3Client,
  encodeEventKey,
  EMBEDDED_S3_CREDENTIALS,
  type EmbeddedS3,
  type EmbeddedS3Options,
} from '../../functions/local/embeddedS3.js';

/**
 * The environment a handler reads at import (its cold start) to work against this server: endpoint,
 * region, the server's credentials and `BUCKET`. Set it before importing the handler.
 * @example Object.assign(process.env, embeddedS3Environment(s3), { LOG_LEVEL: 'SILENT' });
 */
export function embeddedS3Environment(s3: EmbeddedS3): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: EMBEDDED_S3_REGION,
    AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    BUCKET: s3.bucket,
  };
}
