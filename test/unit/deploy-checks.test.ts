import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartConfigSchema } from '../../src/deploy/chart-values';
import { metricNames, unknownSeries } from '../../scripts/deploy/check-queries';
import { crdSchemas, schemaFileName, swaggerSchemas } from '../../scripts/deploy/kube-schemas';

const VALUES_SCHEMA = join(__dirname, '..', '..', 'deploy', 'helm', 'ferry', 'values.schema.json');

describe('deploy > the chart values schema', () => {
  it("accepts under `config` exactly what ferry's config schema reads (npm run chart:schema)", () => {
    const onDisk = JSON.parse(readFileSync(VALUES_SCHEMA, 'utf8')).properties.config;
    expect({ ...onDisk, description: undefined }).toEqual({
      ...JSON.parse(JSON.stringify(chartConfigSchema())),
      description: undefined,
    });
  });
});

describe('deploy > query checks', () => {
  it('finds the series a query reads, not its functions, labels, variables or numbers', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (mapping, le) (rate(ferry_write_duration_seconds_bucket{mapping=~"$mapping", x="a(b)"}[$__rate_interval]))) > 1e-06',
      ),
    ).toEqual(['ferry_write_duration_seconds_bucket']);
    expect(
      metricNames(
        'time() - max by (job) (ferry_verify_last_success_timestamp_seconds) > 2 * on (job) group_left ferry_verify_schedule_interval_seconds unless on(job) up offset 5m',
      ),
    ).toEqual(['ferry_verify_last_success_timestamp_seconds', 'ferry_verify_schedule_interval_seconds', 'up']);
  });

  it('names the query and the series no part of ferry exports', () => {
    const known = new Set(['ferry_events_total']);
    expect(
      unknownSeries(
        [
          { where: "panel 'Events'", expr: 'rate(ferry_events_total[5m])' },
          { where: "panel 'Lag'", expr: 'max(ferry_consumer_lag)' },
        ],
        known,
      ),
    ).toEqual(["panel 'Lag': ferry_consumer_lag is not a metric ferry exports"]);
  });
});

describe('deploy > kubeconform schemas', () => {
  it('are named as kubeconform looks them up', () => {
    expect(schemaFileName({ group: 'apps', version: 'v1', kind: 'Deployment' })).toBe('deployment-apps-v1.json');
    expect(schemaFileName({ group: '', version: 'v1', kind: 'ServiceAccount' })).toBe('serviceaccount-v1.json');
    expect(schemaFileName({ group: 'keda.sh', version: 'v1alpha1', kind: 'ScaledObject' })).toBe(
      'scaledobject-keda-v1alpha1.json',
    );
  });

  it('stand alone and refuse undeclared fields, keeping maps and preserved fields open', () => {
    const files = swaggerSchemas({
      definitions: {
        'io.k8s.api.demo.v1.Thing': {
          'x-kubernetes-group-version-kind': [{ group: 'demo', version: 'v1', kind: 'Thing' }],
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            spec: { $ref: '#/definitions/io.k8s.api.demo.v1.Spec' },
          },
        },
        'io.k8s.api.demo.v1.Spec': {
          properties: {
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            port: { $ref: '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
            properties: { type: 'string' },
          },
        },
        'io.k8s.api.demo.v1.Unrelated': { properties: { a: { type: 'string' } } },
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a generated JSON schema
    const thing = files.get('thing-demo-v1.json') as any;
    expect(thing.additionalProperties).toBe(false);
    expect(thing.properties.kind.enum).toEqual(['Thing']);
    expect(Object.keys(thing.definitions).sort()).toEqual([
      'io.k8s.api.demo.v1.Spec',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    ]);
    const spec = thing.definitions['io.k8s.api.demo.v1.Spec'];
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.labels.additionalProperties).toEqual({ type: 'string' });
    // A field named "properties" is a field, not a schema keyword.
    expect(spec.properties.properties).toEqual({ type: 'string' });
  });

  it('from CRDs: int-or-string, nullable and preserved fields as JSON Schema says them', () => {
    const files = crdSchemas(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: keda.sh
  names: { kind: ScaledObject }
  versions:
    - name: v1alpha1
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                target: { x-kubernetes-int-or-string: true }
                note: { type: string, nullable: true }
                free: { type: object, x-kubernetes-preserve-unknown-fields: true, properties: { a: { type: string } } }
`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a generated JSON schema
    const spec = (files.get('scaledobject-keda-v1alpha1.json') as any).properties.spec;
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.target.oneOf).toEqual([{ type: 'string' }, { type: 'integer' }]);
    expect(spec.properties.note.type).toEqual(['string', 'null']);
    expect(spec.properties.free.additionalProperties).toBeUndefined();
  });
});
