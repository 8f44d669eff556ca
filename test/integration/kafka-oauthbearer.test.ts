import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaSettings } from '../../src/config/config';
import { saslOptions, tlsOptions } from '../../src/source/kafka/kafka-client';
import { kafkaSetupProblem } from '../../src/source/kafka/kafka-errors';
import type { MskTokenSigner } from '../../src/source/kafka/msk-iam';
import { stack } from '../support/stack';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Stands in for AWS's signer: no MSK is reachable from here, and the local broker validates
 * unsecured JWTs (alg "none") on its OAUTHBEARER listener, where MSK would check a signed URL.
 */
function unsecuredJwts(): MskTokenSigner & { calls: number } {
  const signer = Object.assign(
    async () => {
      signer.calls++;
      const iat = Math.floor(Date.now() / 1000);
      const token = `${b64({ alg: 'none' })}.${b64({ sub: 'ferry', iat, exp: iat + 900 })}.`;
      return { token, expiryTime: (iat + 900) * 1000 };
    },
    { calls: 0 },
  );
  return signer;
}

/** FERRY_KAFKA_SASL_MECHANISM=aws-msk-iam's path, end to end: ferry's token provider over OAUTHBEARER. */
describe('integration > OAUTHBEARER (the MSK IAM path) against the local broker', () => {
  const settings = {
    brokers: stack.kafkaSaslSslBrokers,
    clientId: 'ferry-oauthbearer-test',
    ssl: true,
    sslCa: join(stack.tlsDir, 'ca.pem'),
    sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' },
  } as KafkaSettings;
  const client = (signer: MskTokenSigner) =>
    new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ssl: tlsOptions(settings),
      sasl: saslOptions(settings, signer),
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });

  it('produces and consumes with the tokens the provider signs, signing once for every connection', async () => {
    const signer = unsecuredJwts();
    const kafka = client(signer);
    const topic = `ferry-oauthbearer-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'over oauthbearer' }] });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Promise<string>((resolve) =>
      consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }),
    );
    expect(await received).toBe('over oauthbearer');
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    // Several connections (admin, producer, consumer, coordinators), one token while it is good.
    expect(signer.calls).toBe(1);
  }, 60_000);

  /** What connecting with these tokens ends in: the first failure, from connect() or the first request. */
  async function firstFailure(signer: MskTokenSigner): Promise<unknown> {
    const admin = client(signer).admin();
    const failure = await admin.connect().then(
      () => admin.listTopics().then(() => undefined),
      (err: unknown) => err,
    );
    await admin.disconnect();
    return failure;
  }

  it('a token the broker refuses fails the login itself, naming the settings to check', async () => {
    // A token without the principal (sub) claim, as an unsigned token is to MSK.
    const refused: MskTokenSigner = async () => ({
      token: `${b64({ alg: 'none' })}.${b64({ exp: 2e9 })}.`,
      expiryTime: 2e12,
    });
    const failure = await firstFailure(refused);
    expect(failure).toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringMatching(/invalid_token/),
    });
    expect(kafkaSetupProblem(failure)).toMatch(
      /refused the SASL login.*aws-msk-iam: the AWS credentials, FERRY_KAFKA_SASL_REGION/,
    );
  }, 60_000);

  it('credentials the chain cannot find fail the login, naming the credentials and the region', async () => {
    const unsigned: MskTokenSigner = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    const failure = await firstFailure(unsigned);
    expect(kafkaSetupProblem(failure)).toMatch(
      /^ferry could not sign a login for Kafka.*Could not load credentials.*check the AWS credentials.*FERRY_KAFKA_SASL_REGION/,
    );
  }, 60_000);
});
