/**
 * Writes the `config` section of the chart's values.schema.json from ferry's config schema:
 *   npm run chart:schema
 * (test/unit/chart-values checks that it is up to date).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { chartConfigSchema } from '../../src/deploy/chart-values';

const VALUES_SCHEMA = join(__dirname, '..', '..', 'deploy', 'helm', 'ferry', 'values.schema.json');

async function main() {
  const schema = JSON.parse(readFileSync(VALUES_SCHEMA, 'utf8'));
  schema.properties.config = {
    description: "Other ferry settings, as environment variables (README, 'Running the worker')",
    ...chartConfigSchema(),
  };
  const options = { ...(await resolveConfig(VALUES_SCHEMA)), parser: 'json' };
  writeFileSync(VALUES_SCHEMA, await format(JSON.stringify(schema), options));
}

if (require.main === module) void main();
