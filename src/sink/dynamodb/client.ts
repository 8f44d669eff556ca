import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbConfig } from '../../config/config';

/** Credentials come from the AWS default chain; an endpoint override points at DynamoDB Local. */
export function createDynamoDbClients(config: DynamoDbConfig) {
  const raw = new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoint,
    // ferry retries with heartbeats itself; the SDK's own retries stay short.
    maxAttempts: 3,
    ...(config.endpoint && isLocal(config.endpoint)
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: true },
  });
  return { raw, doc };
}

function isLocal(endpoint: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/.test(endpoint);
}
