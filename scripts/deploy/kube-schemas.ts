/**
 * JSON schemas for kubeconform, offline: one file per kind, named as kubeconform looks them up
 * (`<kind>-<group>-<version>.json`), from Kubernetes' OpenAPI document and from CRD manifests.
 *
 *   tsx scripts/deploy/kube-schemas.ts --out <dir> --swagger <swagger.json> [--crd <crd.yaml>]...
 *
 * Strict, as kubeconform's published `-strict` schemas are: an object with declared properties
 * accepts no others, so a misspelled field fails validation instead of being ignored.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';

type Schema = { [key: string]: unknown };
type Gvk = { group: string; version: string; kind: string };

const INT_OR_STRING = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
/** Kubernetes accepts a number where a quantity ("500m", "1Gi") is expected; so do its tools. */
const QUANTITY = { oneOf: [{ type: 'string' }, { type: 'number' }] };

/** kubeconform's file name: kind, the group's first label (none for the core group), version. */
export function schemaFileName({ group, version, kind }: Gvk): string {
  const groupPart = group ? `-${group.split('.')[0]}` : '';
  return `${kind.toLowerCase()}${groupPart}-${version}.json`.toLowerCase();
}

/** Keys whose value maps names to schemas, and keys whose value is data, not a schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);
const DATA = new Set(['enum', 'required', 'default', 'example', 'x-kubernetes-group-version-kind']);

/** Objects with declared properties refuse others; OpenAPI's extensions become JSON Schema. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_MAPS.has(key) && value && typeof value === 'object')
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, strict(schema)]));
    else out[key] = DATA.has(key) ? value : strict(value);
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    return { ...out, ...INT_OR_STRING };
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  const open = out['x-kubernetes-preserve-unknown-fields'] === true || 'additionalProperties' in out;
  if (out.properties && !open) out.additionalProperties = false;
  return out;
}

/** The definitions a schema refers to, transitively, so that each file stands alone. */
function closure(name: string, definitions: Record<string, Schema>, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object')
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string')
          closure(value.replace('#/definitions/', ''), definitions, seen);
        else walk(value);
      }
  };
  walk(definitions[name]);
  return seen;
}

function withKind(schema: Schema, gvks: Gvk[]): Schema {
  const properties = { ...(schema.properties as Schema) };
  const apiVersions = gvks.map((g) => (g.group ? `${g.group}/${g.version}` : g.version));
  properties.apiVersion = { type: 'string', enum: [...new Set(apiVersions)] };
  properties.kind = { type: 'string', enum: [...new Set(gvks.map((g) => g.kind))] };
  return { ...schema, properties };
}

/** Every kind of a Kubernetes OpenAPI v2 document (api/openapi-spec/swagger.json). */
export function swaggerSchemas(swagger: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const definitions: Record<string, Schema> = { ...swagger.definitions };
  definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = INT_OR_STRING;
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = QUANTITY;
  const files = new Map<string, Schema>();
  for (const [name, definition] of Object.entries(definitions)) {
    const gvks = definition['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
    // List kinds and the kinds of other APIs' pkg/ copies are not manifests anyone writes.
    if (!gvks || !(definition.properties as Schema | undefined)?.kind || name.endsWith('List')) continue;
    const refs = [...closure(name, definitions)].filter((ref) => ref !== name);
    const schema = withKind(definition, gvks);
    const body = strict({
      $schema: 'http://json-schema.org/schema#',
      ...schema,
      definitions: Object.fromEntries(refs.map((ref) => [ref, definitions[ref]])),
    }) as Schema;
    for (const gvk of gvks) files.set(schemaFileName(gvk), body);
  }
  return files;
}

/** Every served version of the CustomResourceDefinitions in a YAML stream. */
export function crdSchemas(text: string): Map<string, Schema> {
  const files = new Map<string, Schema>();
  for (const doc of parseAllDocuments(text)) {
    const crd = doc.toJS() as {
      kind?: string;
      spec?: {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }>;
      };
    } | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    const { group, names, versions } = crd.spec;
    for (const version of versions) {
      const schema = version.schema?.openAPIV3Schema;
      if (!schema) continue;
      const gvk = { group, version: version.name, kind: names.kind };
      files.set(
        schemaFileName(gvk),
        strict({ $schema: 'http://json-schema.org/schema#', ...withKind(schema, [gvk]) }) as Schema,
      );
    }
  }
  return files;
}

function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, swagger: { type: 'string' }, crd: { type: 'string', multiple: true } },
  });
  if (!values.out || !values.swagger)
    throw new Error('usage: kube-schemas.ts --out <dir> --swagger <file> [--crd <file>]...');
  mkdirSync(values.out, { recursive: true });
  const files = swaggerSchemas(JSON.parse(readFileSync(values.swagger, 'utf8')));
  for (const crd of values.crd ?? [])
    for (const [name, schema] of crdSchemas(readFileSync(crd, 'utf8'))) files.set(name, schema);
  for (const [name, schema] of files) writeFileSync(join(values.out, name), JSON.stringify(schema));
  console.log(`kube-schemas: ${files.size} schemas in ${values.out}`);
}

if (require.main === module) main();
