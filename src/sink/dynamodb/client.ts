import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDbConfig } from '../../config/config';

/**
 * The DynamoDB client: credentials from the AWS default chain; an endpoint override points at
 * DynamoDB Local. Items are marshalled by ferry (mapping/prepare-item), not by lib-dynamodb.
 */
export function createDynamoDbClient(config: DynamoDbConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoint,
    useFipsEndpoint: config.fips,
    // ferry retries with heartbeats itself; the SDK's own retries stay short.
    maxAttempts: 3,
    // Without throwOnRequestTimeout the SDK only warns, and a half-open connection waits forever.
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: Math.min(3000, config.requestTimeoutMs),
      throwOnRequestTimeout: true,
    },
    ...(config.endpoint && isLocal(config.endpoint)
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}

function isLocal(endpoint: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/.test(endpoint);
}
