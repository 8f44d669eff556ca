import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';

/** A token is renewed this long before it expires (MSK's tokens live 15 minutes). */
export const RENEW_BEFORE_MS = 5 * 60_000;

export type MskTokenSigner = (options: {
  region: string;
  awsCredentialsProvider: AwsCredentialIdentityProvider;
}) => Promise<{ token: string; expiryTime: number }>;

/**
 * kafkajs's OAUTHBEARER provider for MSK IAM: a token signed by AWS's signer library with the
 * default credential chain (as DynamoDB's), kept until 5 minutes before it expires. Connections
 * opened together share one signing.
 */
export function mskIamTokens(
  region: string,
  {
    sign = generateAuthTokenFromCredentialsProvider as MskTokenSigner,
    credentials = defaultProvider() as AwsCredentialIdentityProvider,
    now = Date.now,
  } = {},
): () => Promise<{ value: string }> {
  let held: { token: string; expiryTime: number } | undefined;
  let signing: Promise<{ token: string; expiryTime: number }> | undefined;
  return async () => {
    if (!held || held.expiryTime - now() <= RENEW_BEFORE_MS) {
      signing ??= sign({ region, awsCredentialsProvider: credentials }).finally(() => (signing = undefined));
      held = await signing;
    }
    return { value: held.token };
  };
}
