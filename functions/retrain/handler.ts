import type { ScheduledEvent } from 'aws-lambda';
import { traced } from '../adapters/tracing/traced.js';
import type { ModelRetrain } from './retrainModel.js';
import { createRetrainRuntime } from './retrainRuntime.js';

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createRetrainRuntime();

/**
 * Lambda entry for the retrain schedule: for every model with enough new labelled outcomes (and,
 * with `onlyOnAlarm`, an alarm in the drift function's latest report), a challenger trained,
 * judged against the champion and promoted only if better. Fails (so the Errors alarm and the
 * failure queue see it) when any model's retraining failed, after every model had its turn.
 */
export const handler = traced(
  'retraining',
  (event: ScheduledEvent): Promise<ModelRetrain[]> => runtime.runRetraining(event.time ? new Date(event.time) : new Date()),
  (event, results) => ({ scheduledAt: event.time, models: results?.map((result) => result.model).join(',') }),
);
