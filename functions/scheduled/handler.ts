// Placeholder (to be replaced by the drift/retrain handler): lets the CDK stack synthesize.
import type { ScheduledEvent } from 'aws-lambda';

export async function handler(event: ScheduledEvent): Promise<void> {
  console.log(JSON.stringify({ message: 'scheduled placeholder', event }));
}
