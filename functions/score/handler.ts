// Placeholder (to be replaced by the score handler): lets the CDK stack synthesize.
import type { S3Event } from 'aws-lambda';

export async function handler(event: S3Event): Promise<void> {
  console.log(JSON.stringify({ message: 'score placeholder', event }));
}
