import type { Mechanism } from 'kafkajs';
import { loadConfig } from '../../src/config/config';
import { saslOptions } from '../../src/source/kafka/kafka-client';
import { RENEW_BEFORE_MS, type MskTokenSigner, mskIamTokens } from '../../src/source/kafka/msk-iam';

const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI',
  sessionToken: 'session-1',
});

/** The presigned URL an MSK IAM token is (base64url), as its query parameters. */
const urlOf = (token: string) => new URL(Buffer.from(token, 'base64url').toString());

describe('MSK IAM > tokens from AWS’s signer library', () => {
  it('signs kafka-cluster:Connect for the region with the credentials of the chain', async () => {
    const { value } = await mskIamTokens('eu-west-1', { credentials })();
    const url = urlOf(value);
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session-1');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(value).not.toContain('wJalrXUtnFEMI');
  });

  it('keeps a token until 5 minutes before it expires, then signs a new one with fresh credentials', async () => {
    let now = 1_000_000;
    let signed = 0;
    const sign: MskTokenSigner = async ({ awsCredentialsProvider }) => {
      const { sessionToken } = await awsCredentialsProvider();
      return { token: `t${++signed}-${sessionToken}`, expiryTime: now + 15 * 60_000 };
    };
    let session = 1;
    const provider = mskIamTokens('eu-west-1', {
      sign,
      credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: `s${session}` }),
      now: () => now,
    });
    expect(await provider()).toEqual({ value: 't1-s1' });
    now += 15 * 60_000 - RENEW_BEFORE_MS - 1;
    expect(await provider()).toEqual({ value: 't1-s1' });
    session = 2;
    now += 1;
    expect(await provider()).toEqual({ value: 't2-s2' });
  });

  it('signs once for connections opened together, and again after a failed signing', async () => {
    let calls = 0;
    let fail = true;
    const sign: MskTokenSigner = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('no credentials');
      return { token: 'ok', expiryTime: Date.now() + 15 * 60_000 };
    };
    const provider = mskIamTokens('eu-west-1', { sign, credentials });
    await expect(Promise.all([provider(), provider(), provider()])).rejects.toThrow('no credentials');
    expect(calls).toBe(1);
    fail = false;
    expect(await Promise.all([provider(), provider()])).toEqual([{ value: 'ok' }, { value: 'ok' }]);
    expect(calls).toBe(2);
  });

  it('is what FERRY_KAFKA_SASL_MECHANISM=aws-msk-iam gives kafkajs, in the DynamoDB region unless told', async () => {
    const env = { FERRY_KAFKA_SASL_MECHANISM: 'aws-msk-iam', FERRY_DYNAMODB_REGION: 'eu-west-1' };
    expect(loadConfig({ env }).kafka.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' });
    const settings = loadConfig({ env: { ...env, FERRY_KAFKA_SASL_REGION: 'us-west-2' } }).kafka;
    expect(settings.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'us-west-2' });
    const sasl = saslOptions(settings, async ({ region }) => ({ token: region, expiryTime: Date.now() + 900_000 }));
    expect(sasl).toMatchObject({ mechanism: 'OAUTHBEARER' });
    // The client's first message (RFC 7628), as the broker reads it: the token signed for the region.
    const sent: Buffer[] = [];
    await (sasl as Mechanism)
      .authenticationProvider({
        host: 'b-1',
        port: 9098,
        logger: undefined as never,
        saslAuthenticate: async ({ request }) => {
          sent.push(await request.encode());
          return undefined as never;
        },
      })
      .authenticate();
    const message = sent[0] as Buffer;
    expect(message.readInt32BE(0)).toBe(message.length - 4);
    expect(message.subarray(4).toString()).toBe('n,,\u0001auth=Bearer us-west-2\u0001\u0001');
    // A user and password mean nothing to it; without them SCRAM is refused by the schema.
    expect(() => loadConfig({ env: { FERRY_KAFKA_SASL_MECHANISM: 'scram-sha-512' } })).toThrow(/kafka.sasl/);
  });
});
