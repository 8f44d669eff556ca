import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { KafkaJSSASLAuthenticationError, type Mechanism } from 'kafkajs';

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

/** The SASL bytes in kafkajs's encoding of them: a 32-bit length (-1 for none), then the bytes. */
const saslBytes = (encoded: Buffer): Buffer =>
  encoded.length < 4 ? Buffer.alloc(0) : encoded.subarray(4, 4 + Math.max(0, encoded.readInt32BE(0)));

/** How a failed signing starts its message. */
export const NO_MSK_IAM_TOKEN = 'no MSK IAM token';

// kafkajs's typings omit this error's message argument.
const LoginRefused = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

/**
 * SASL/OAUTHBEARER (RFC 7628) for kafkajs, presenting MSK IAM tokens. kafkajs's own ignores the
 * error the broker answers a refused token with and carries on as if logged in, until the broker
 * drops the connection; this one reads that answer and fails the login, naming the broker's status.
 */
export function mskIamMechanism(tokens: () => Promise<{ value: string }>): Mechanism {
  return {
    mechanism: 'OAUTHBEARER',
    authenticationProvider: ({ host, port, saslAuthenticate }) => ({
      authenticate: async () => {
        let token: string;
        try {
          ({ value: token } = await tokens());
        } catch (err) {
          throw new LoginRefused(`${NO_MSK_IAM_TOKEN} for ${host}:${port}: ${(err as Error).message}`);
        }
        const message = Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`);
        const length = Buffer.alloc(4);
        length.writeInt32BE(message.length);
        const answer = await saslAuthenticate<string>({
          request: { encode: () => Buffer.concat([length, message]) },
          response: { decode: saslBytes, parse: (bytes) => bytes.toString('utf8') },
        });
        // An empty answer is success; a refusal is a JSON error such as {"status":"invalid_token"}.
        if (answer) throw new LoginRefused(`SASL OAUTHBEARER authentication failed: ${answer}`);
      },
    }),
  };
}
