import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReadme } from '@tether/cli';

describe('README.md', () => {
  it('has the generated tables as the code produces them now (run npm run docs)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(renderReadme(readme)).toBe(readme);
  });
});
