import { describe, expect, it } from '@jest/globals';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';

const labels = { app: 'web', tier: 'front', version: '3' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web, db)', true],
    ['app in (db)', false],
    ['app notin (db,cache)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier=front', true],
    ['app=web, tier=back', false],
    ['  app = web  ', true],
    ['version>2', true],
    ['version<3', false],
    ['app>1', false],
    ['example.com/owner', false],
    ['app in ()', false],
    ['missing=', false],
    ['app=', false],
  ])('%j matches: %s', (selector, expected) => {
    const parsed = parseLabelSelector(selector);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(matchesLabels(parsed.value, labels)).toBe(expected);
  });

  it.each([
    'app=web=x',
    'app in web',
    'app in (web',
    '=web',
    'app=',
    '!',
    'app notin',
    'a b',
    'version>x',
    'in(',
    'bad key!=x',
    '-app=x',
    'app=-x',
  ])('%j is refused', (selector) => {
    // 'app=' alone is valid ("app has the empty value"); the rest are not.
    const parsed = parseLabelSelector(selector);
    if (selector === 'app=') {
      expect(parsed.ok).toBe(true);
      return;
    }
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^unable to parse requirement: /);
  });

  it('never throws on hostile input', () => {
    for (const input of [
      '\u0000',
      '((((',
      ',,,',
      'a'.repeat(100_000),
      'ключ=значение',
      'a=b\r\nc=d',
      ')',
    ]) {
      expect(() => parseLabelSelector(input)).not.toThrow();
    }
  });
});

describe('field selectors', () => {
  const values: Record<string, string> = {
    'metadata.name': 'a,b',
    'metadata.namespace': 'default',
    type: '',
  };
  const valueOf = (field: string): string => values[field] ?? '';

  it.each([
    ['metadata.namespace=default', true],
    ['metadata.namespace==default', true],
    ['metadata.namespace!=default', false],
    ['metadata.name=a\\,b', true],
    ['metadata.name=a\\,b,metadata.namespace=other', false],
    ['type=', true],
    ['type!=', false],
    ['', true],
  ])('%j matches: %s', (selector, expected) => {
    const parsed = parseFieldSelector(selector);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(matchesFields(parsed.value, valueOf)).toBe(expected);
  });

  it.each(['metadata.name', '=x', 'a=b=c', 'a=\\q'])('%j is refused', (selector) => {
    expect(parseFieldSelector(selector).ok).toBe(false);
  });
});
