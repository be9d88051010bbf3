import type { ScheduledEvent } from 'aws-lambda';
import type { ModelCheck } from './checkModel.js';
import { createScheduledRuntime } from './scheduledRuntime.js';

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createScheduledRuntime();

/**
 * Lambda entry for the EventBridge schedule: for every model, the drift check of its recent runs
 * (report in `drift/<model>/`, EMF metrics for the alarms) and, when labelled outcomes arrived,
 * champion/challenger retraining. Fails (so the Errors alarm and the failure queue see it) when
 * any model's check failed, after every model had its turn.
 */
export async function handler(event: ScheduledEvent): Promise<ModelCheck[]> {
  return runtime.runChecks(event.time ? new Date(event.time) : new Date());
}
