// The integration tests use the same embedded S3 wrapper as `npm start`.
export {
  startEmbeddedS3,
  createEmbeddedS3Client,
  encodeEventKey,
  EMBEDDED_S3_CREDENTIALS,
  type EmbeddedS3,
  type EmbeddedS3Options,
} from '../../functions/local/embeddedS3.js';
