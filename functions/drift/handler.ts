import type { ScheduledEvent } from 'aws-lambda';
import { traced } from '../adapters/tracing/traced.js';
import type { ModelDriftCheck } from './checkModelDrift.js';
import { createDriftRuntime } from './driftRuntime.js';

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createDriftRuntime();

/**
 * Lambda entry for the drift schedule: for every model, the drift check of its recent runs (report
 * in `drift/<model>/`, EMF metrics for the drift alarms) and realized performance of past runs when
 * outcomes arrived. Fails (so the Errors alarm and the failure queue see it) when any model's check
 * failed, after every model had its turn.
 */
export const handler = traced(
  'driftChecks',
  (event: ScheduledEvent): Promise<ModelDriftCheck[]> => runtime.runChecks(event.time ? new Date(event.time) : new Date()),
  (event, results) => ({ scheduledAt: event.time, models: results?.map((result) => result.model).join(',') }),
);
