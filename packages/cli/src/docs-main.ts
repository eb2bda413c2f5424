/** Rewrites the generated tables of README.md: `npm run docs`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReadme } from './docs';

const path = join(__dirname, '..', '..', '..', 'README.md');
const before = readFileSync(path, 'utf8');
const after = renderReadme(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md updated\n');
