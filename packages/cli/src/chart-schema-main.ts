/** Rewrites charts/tether/values.schema.json from the chart's zod schema: `npm run chart:schema`. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChartValuesSchema } from './chart-schema';

const path = join(__dirname, '..', '..', '..', 'charts', 'tether', 'values.schema.json');
const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
const after = renderChartValuesSchema();
if (after !== before) writeFileSync(path, after);
process.stdout.write(
  after === before ? 'values.schema.json is up to date\n' : 'values.schema.json updated\n',
);
