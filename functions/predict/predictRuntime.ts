import { Logger } from '@aws-lambda-powertools/logger';
import { PredictRequestError, PropensityError, isBundleNotFound } from '../core/errors.js';
import { isModelName } from '../core/bundle/bundleNames.js';
import { describeError } from '../core/engine/runFailure.js';
import { ChampionCache } from '../core/predict/championCache.js';
import { predictorFor, type CustomerPredictor } from '../core/predict/customerPredictor.js';
import { parsePredictRequest } from '../core/predict/predictRequest.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { createS3Client } from '../adapters/s3/s3Objects.js';
import { ChampionBundles } from '../score/championBundles.js';
import { readPredictConfig, type PredictConfig } from './config.js';

/** Model versions kept loaded at once: every model a container serves, plus the one a promotion replaces. */
const LOADED_VERSIONS = 16;

const PREDICT_PATH = /^\/predict\/([^/]+)\/?$/;

/** The HTTP request as any front end hands it over (the function URL, `npm start -- --serve`). */
export interface PredictHttpRequest {
  readonly method: string;
  /** Raw path, e.g. `/predict/bank-marketing`. */
  readonly path: string;
  readonly body: Uint8Array | string;
}

export interface PredictHttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface PredictRuntime {
  readonly config: PredictConfig;
  readonly logger: Logger;
  /**
   * Answers one request: 200 with the predictions, 400 / 413 / 404 / 405 with `{"error": {code, message, …}}`.
   * An internal failure is logged and thrown, so Lambda counts it in Errors (the URL answers 502).
   */
  serve(request: PredictHttpRequest): Promise<PredictHttpResponse>;
  /** Releases every loaded model (tests, the local server on exit). */
  dispose(): Promise<void>;
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): PredictHttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The status and body a caller gets for a refused request; undefined for an internal failure. */
function refusal(error: unknown): PredictHttpResponse | undefined {
  if (error instanceof PredictRequestError) {
    // The class name is left out: a minified bundle renames classes, and callers go by the code.
    const { name: _name, ...body } = error.toJSON();
    return json(error.code === 'REQUEST_TOO_LARGE' ? 413 : 400, { error: body });
  }
  if (isBundleNotFound(error)) return json(404, { error: { code: error.code, message: error.message } });
  return undefined;
}

/**
 * Everything the predict handler needs, built once per cold start: config (validated), S3 client,
 * the champion of each model (S3 registry, else the bundled models) loaded once per version and
 * re-checked every CHAMPION_TTL_SECONDS, and the Powertools logger. Logs carry model, version,
 * counts, codes, customer indexes and column names: never a customer's values or id.
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createPredictRuntime(env: NodeJS.ProcessEnv = process.env, options: { readonly now?: () => number } = {}): PredictRuntime {
  const config = readPredictConfig(env);
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'propensity-predict', logLevel: config.logLevel });
  const client = createS3Client(config.s3Endpoint, env.AWS_REGION);
  const bundled = config.bundledModelsDir ? new FsRegistry(config.bundledModelsDir) : undefined;
  const bundles = new ChampionBundles(new S3Registry(client, config.bucket, config.modelsPrefix), bundled, LOADED_VERSIONS);
  const champions = new ChampionCache<CustomerPredictor>(
    async (model) => {
      const { bundle, origin } = await bundles.resolve(model);
      logger.info('champion resolved', { model, version: bundle.manifest.version, origin });
      return predictorFor(bundle);
    },
    {
      ttlMs: config.championTtlMs,
      ...(options.now ? { now: options.now } : {}),
      onRefreshError: (model, error) => logger.warn('champion re-check failed, serving the loaded one', { model, error: describeError(error) }),
    },
  );

  return {
    config,
    logger,
    async serve(request) {
      const started = performance.now();
      // The path is the caller's: it is answered, never logged.
      const refuse = (response: PredictHttpResponse, attributes: Record<string, unknown> = {}) => {
        logger.info('request refused', { statusCode: response.statusCode, ...attributes, durationMs: performance.now() - started });
        return response;
      };
      const route = PREDICT_PATH.exec(request.path);
      if (!route) return refuse(json(404, { error: { code: 'NOT_FOUND', message: 'POST /predict/<model>' } }));
      if (request.method !== 'POST') return refuse(json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST /predict/<model>' } }, { allow: 'POST' }));
      const model = route[1]!;
      try {
        if (!isModelName(model)) return refuse(json(404, { error: { code: 'BUNDLE_NOT_FOUND', message: 'not a model name (lower-case letters, digits and dashes)' } }));
        const parsed = parsePredictRequest(request.body);
        const predictor = await champions.get(model);
        const response = await predictor.predict(parsed);
        logger.info('predicted', { model, version: predictor.version, customers: parsed.customers.length, explain: parsed.explain, durationMs: performance.now() - started });
        return json(200, response);
      } catch (error) {
        const refused = refusal(error);
        // Codes, indexes and column names only: the error never quotes a value (PredictRequestError's contract).
        if (refused) return refuse(refused, { model, error: describeError(error) });
        logger.error('predict failed', { model, error: describeError(error), retryable: !(error instanceof PropensityError && error.isInputError) });
        throw error;
      }
    },
    dispose: () => bundles.dispose(),
  };
}
