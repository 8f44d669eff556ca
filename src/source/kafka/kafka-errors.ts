import { envName } from '../../config/config';
import { certificateProblem } from '../../core/tls-errors';
import { NO_MSK_IAM_TOKEN } from './msk-iam';

type KafkaJsError = Error & { code?: string; type?: string; broker?: string; cause?: unknown };

function chain(err: unknown): KafkaJsError[] {
  const errors: KafkaJsError[] = [];
  for (let e = err; e instanceof Error && errors.length < 10; e = (e as KafkaJsError).cause) errors.push(e);
  return errors;
}

/**
 * One line naming the setting to fix when Kafka refused the connection or the login (wrong
 * credentials, an untrusted certificate, TLS against a plaintext listener or the reverse);
 * undefined for any other failure. Never includes a secret: kafkajs's messages carry none.
 */
export function kafkaSetupProblem(err: unknown): string | undefined {
  const errors = chain(err);
  const at = errors.find((e) => e.broker)?.broker;
  const where = at ? ` at ${at}` : '';
  for (const e of errors) {
    if (e.name === 'KafkaJSSASLAuthenticationError' && e.message.startsWith(NO_MSK_IAM_TOKEN))
      return `ferry could not sign a login for Kafka${where} (${e.message}): check the AWS credentials (the default chain: environment, profile, web identity, container or instance role) and ${envName('kafka.sasl.region')}`;
    if (e.name === 'KafkaJSSASLAuthenticationError')
      return `Kafka${where} refused the SASL login (${e.message}): check ${envName('kafka.sasl.mechanism')}, ${envName('kafka.sasl.username')} and ${envName('kafka.sasl.password')} (aws-msk-iam: the AWS credentials, ${envName('kafka.sasl.region')} and the role's kafka-cluster:Connect)`;
    const certificate = certificateProblem(e.code);
    if (certificate === 'untrusted')
      return `the TLS certificate of Kafka${where} is not signed by a CA ferry trusts (${e.code}): set ${envName('kafka.sslCa')} to the file of the CA that signed it`;
    if (certificate === 'invalid')
      return `the TLS certificate of Kafka${where} is not valid for it (${e.code}): fix the broker's certificate or ${envName('kafka.brokers')}`;
    if (/wrong version number|packet length too long|EPROTO/i.test(`${e.code ?? ''} ${e.message}`))
      return `Kafka${where} does not speak TLS there (${e.message}): unset ${envName('kafka.ssl')}, or use the brokers' TLS listener in ${envName('kafka.brokers')}`;
    if (/alert bad certificate|alert certificate required|alert unknown ca/i.test(e.message))
      return `Kafka${where} refused ferry's TLS client certificate: set ${envName('kafka.sslCert')} and ${envName('kafka.sslKey')} to a certificate its CA signed`;
    if (/disconnected before secure TLS connection/i.test(e.message))
      return `Kafka${where} closed the connection during the TLS handshake: if that listener is plaintext, unset ${envName('kafka.ssl')}; if it asks for a client certificate, set ${envName('kafka.sslCert')} and ${envName('kafka.sslKey')}`;
    if (e.name === 'KafkaJSConnectionClosedError')
      return `Kafka${where} closed the connection before answering: if that listener uses TLS, set ${envName('kafka.ssl')}=true; if it asks for SASL, set ${envName('kafka.sasl.mechanism')}`;
  }
  return undefined;
}

/**
 * A connection closed during or right after the handshake: what a listener of another kind does
 * (TLS against plaintext, a missing client certificate), and also what a broker that is restarting
 * does. Only a failure that lasts is read as a setting.
 */
export function mayBeTransient(err: unknown): boolean {
  return chain(err).some(
    (e) => e.name === 'KafkaJSConnectionClosedError' || /disconnected before secure TLS connection/i.test(e.message),
  );
}

/** Kafka answered that the partition has no leader, or that another broker leads it: it moves on by itself. */
export function leadershipMoving(err: unknown): boolean {
  return chain(err).some((e) => e.type === 'LEADER_NOT_AVAILABLE' || e.type === 'NOT_LEADER_FOR_PARTITION');
}

/** Kafka answered that it has no such topic (or partition). */
export function missingTopic(err: unknown): boolean {
  return chain(err).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}
