import { z } from 'zod';
import { ENV_PATHS, configSchema, envName } from '../config/config';

/** Settings the Helm chart sets itself, from its structured values or from Secrets. */
export const CHART_SETS = [
  'schemaRegistry.username', // schemaRegistry.secret
  'schemaRegistry.password', // schemaRegistry.secret
  'schemaRegistry.ca', // schemaRegistry.caSecret
  'mapping', // mapping.module or mapping.configMap
  'kafka.brokers', // kafka.brokers, which KEDA reads too
  'kafka.groupId', // kafka.groupId, which KEDA reads too
  'kafka.ssl', // kafka.tls.enabled
  'kafka.sslCa', // kafka.tls.caSecret
  'kafka.sslCert', // kafka.tls.clientCertSecret
  'kafka.sslKey', // kafka.tls.clientCertSecret
  'kafka.sasl.mechanism', // kafka.sasl.mechanism
  'kafka.sasl.username', // kafka.sasl.secret
  'kafka.sasl.password', // kafka.sasl.secret
  'kafka.sasl.region', // kafka.sasl.region (MSK IAM), which KEDA reads too
  'http.host', // every interface: the kubelet probes and Prometheus scrapes
  'http.port', // metrics.port
  'source.url', // source.urlSecret, reconcile.sourceUrlSecret
].map(envName);

/** Settings of commands the chart does not run (`ferry console`). */
export const CHART_LEAVES = ['console.token', 'console.user', 'console.password'].map(envName);

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/** A field of an object schema, or of any branch of a union. */
const fieldOf = (node: JsonSchema | undefined, key: string): JsonSchema | undefined =>
  node?.properties?.[key] ?? [...(node?.anyOf ?? []), ...(node?.oneOf ?? [])].map((b) => fieldOf(b, key)).find(Boolean);

/**
 * The `config` section of the chart's values.schema.json: every other FERRY_* variable, typed as
 * the config schema types it (Kubernetes passes strings; YAML numbers and booleans are accepted too),
 * and nothing else, so that a misspelled variable fails `helm install`.
 */
export function chartConfigSchema() {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties: Record<string, object> = {};
  for (const path of ENV_PATHS) {
    const name = envName(path);
    if (CHART_SETS.includes(name) || CHART_LEAVES.includes(name)) continue;
    const field = path.split('.').reduce<JsonSchema | undefined>(fieldOf, root);
    if (!field) throw new Error(`config schema has no field ${path}`);
    const about = [field.description, field.default === undefined ? undefined : `default ${String(field.default)}`];
    const description = about.filter(Boolean).join('; ') || undefined;
    properties[name] = { ...(description ? { description } : {}), ...valueSchema(field) };
  }
  return { type: 'object', additionalProperties: false, properties };
}

function valueSchema(field: JsonSchema): object {
  if (field.enum) return { enum: field.enum };
  if (field.type === 'boolean') return { enum: [true, false, 'true', 'false'] };
  if (field.type === 'integer')
    return {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^[0-9]+$' },
      ],
    };
  return { type: 'string', minLength: 1 };
}
