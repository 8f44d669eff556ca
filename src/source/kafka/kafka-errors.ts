import { envName } from '../../config/config';

type KafkaJsError = Error & { code?: string; broker?: string; cause?: unknown };

/** TLS verification failures: the broker's certificate is not signed by a CA ferry trusts. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

function chain(err: unknown): KafkaJsError[] {
  const errors: KafkaJsError[] = [];
  for (let e = err; e instanceof Error && errors.length < 10; e = (e as KafkaJsError).cause) errors.push(e);
  return errors;
}

/**
 * One line naming the setting to fix when Kafka refused the connection or the login (wrong
 * credentials, an untrusted certificate, TLS against a plaintext listener or the reverse);
 * undefined for any other failure. Never includes a secret: kafkajs's messages carry none.
 * `mechanism` is the configured SASL mechanism, when known.
 */
export function kafkaSetupProblem(err: unknown, mechanism?: string): string | undefined {
  const errors = chain(err);
  const at = errors.find((e) => e.broker)?.broker;
  const where = at ? ` at ${at}` : '';
  for (const e of errors) {
    if (e.name === 'KafkaJSSASLAuthenticationError')
      return `Kafka${where} refused the SASL login (${e.message}): check ${envName('kafka.sasl.mechanism')}, ${envName('kafka.sasl.username')} and ${envName('kafka.sasl.password')} (aws-msk-iam: the AWS credentials, ${envName('kafka.sasl.region')} and the role's kafka-cluster:Connect)`;
    if (e.code && UNTRUSTED.has(e.code))
      return `the TLS certificate of Kafka${where} is not signed by a CA ferry trusts (${e.code}): set ${envName('kafka.sslCa')} to the file of the CA that signed it`;
    if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || e.code === 'CERT_HAS_EXPIRED')
      return `the TLS certificate of Kafka${where} is not valid for it (${e.code}): fix the broker's certificate or ${envName('kafka.brokers')}`;
    if (/wrong version number|packet length too long|EPROTO/i.test(`${e.code ?? ''} ${e.message}`))
      return `Kafka${where} does not speak TLS there (${e.message}): unset ${envName('kafka.ssl')}, or use the brokers' TLS listener in ${envName('kafka.brokers')}`;
    if (/alert bad certificate|alert certificate required|alert unknown ca/i.test(e.message))
      return `Kafka${where} refused ferry's TLS client certificate: set ${envName('kafka.sslCert')} and ${envName('kafka.sslKey')} to a certificate its CA signed`;
    if (/disconnected before secure TLS connection/i.test(e.message))
      return `Kafka${where} closed the connection during the TLS handshake: if that listener is plaintext, unset ${envName('kafka.ssl')}; if it asks for a client certificate, set ${envName('kafka.sslCert')} and ${envName('kafka.sslKey')}`;
    // kafkajs reads the broker's OAUTHBEARER refusal as success, and the broker then drops the connection.
    if (
      mechanism === 'aws-msk-iam' &&
      (e.name === 'KafkaJSBrokerNotFound' || e.name === 'KafkaJSConnectionClosedError')
    )
      return `Kafka${where} ended the connection after ferry's MSK IAM login: check the AWS credentials, ${envName('kafka.sasl.region')} and the role's kafka-cluster:Connect on the cluster`;
    if (e.name === 'KafkaJSConnectionClosedError')
      return `Kafka${where} closed the connection before answering: if that listener uses TLS, set ${envName('kafka.ssl')}=true; if it asks for SASL, set ${envName('kafka.sasl.mechanism')}`;
  }
  return undefined;
}
