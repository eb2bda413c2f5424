import { describe, expect, it } from '@jest/globals';
import type { Diagnostic, SourceRef } from '@tether/model';
import { readAppCookieConfig, readLbCookieConfig } from './cookie';
import { suggestField } from '../suggest';

const source: SourceRef = {
  dialect: 'oci-native-ingress',
  kind: 'Ingress',
  namespace: 'default',
  name: 'web',
  field: 'lb-cookie-key',
};

function lb(text: string) {
  const diagnostics: Diagnostic[] = [];
  const config = readLbCookieConfig(text, { source, diagnostics, otherModelKey: 'app-key' });
  return { config, diagnostics, reasons: diagnostics.map((d) => `${d.severity}:${d.reason}`) };
}

function app(text: string) {
  const diagnostics: Diagnostic[] = [];
  const config = readAppCookieConfig(text, { source, diagnostics, otherModelKey: 'lb-key' });
  return { config, diagnostics };
}

describe('readLbCookieConfig', () => {
  it('reads every field', () => {
    const r = lb(
      '{"cookieName":"X-Oracle-OCI-A","disableFallback":true,"domain":".example.com","path":"/app","maxAgeInSeconds":300,"isSecure":true,"isHttpOnly":false}',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toEqual({
      cookieName: 'X-Oracle-OCI-A',
      disableFallback: true,
      domain: '.example.com',
      path: '/app',
      maxAgeInSeconds: 300,
      isSecure: true,
      isHttpOnly: false,
    });
  });

  it('treats empty cookieName, domain and path as unset', () => {
    expect(lb('{"cookieName":"","domain":"","path":""}').config).toEqual({});
  });

  it.each([
    ['maxAgeInSeconds 0', '{"maxAgeInSeconds":0}', 'error:InvalidAnnotation'],
    ['negative maxAgeInSeconds', '{"maxAgeInSeconds":-1}', 'error:InvalidAnnotation'],
    [
      'CR/LF in the cookie name',
      '{"cookieName":"A\\r\\nSet-Cookie: x=1"}',
      'error:InvalidAnnotation',
    ],
    ['a space in the cookie name', '{"cookieName":" A"}', 'error:InvalidAnnotation'],
    ['a unicode cookie name', '{"cookieName":"sesión"}', 'error:InvalidAnnotation'],
    ['a huge cookie name', `{"cookieName":"${'a'.repeat(5000)}"}`, 'error:InvalidAnnotation'],
    ['CR/LF in the domain', '{"domain":"example.com\\r\\nX: y"}', 'error:InvalidAnnotation'],
    ['a unicode domain', '{"domain":"bücher.example"}', 'error:InvalidAnnotation'],
    ['a semicolon in the path', '{"path":"/a;Secure"}', 'error:InvalidAnnotation'],
    ['a wrong type', '{"isHttpOnly":"yes"}', 'error:InvalidJson'],
  ])('refuses %s', (_name, text, reason) => {
    const r = lb(text);
    expect(r.config).toBeUndefined();
    expect(r.reasons).toContain(reason);
  });

  it('warns about a Path that browsers ignore but keeps it', () => {
    const r = lb('{"path":"app"}');
    expect(r.config).toEqual({ path: 'app' });
    expect(r.reasons).toEqual(['warning:InvalidAnnotation']);
  });

  it('caps a lifetime Tether cannot hold exactly', () => {
    const r = lb('{"maxAgeInSeconds": 9007199254740993}');
    expect(r.config?.maxAgeInSeconds).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.reasons).toEqual(['warning:InvalidAnnotation']);
  });

  it('warns about maxAge, which OCI ignores, and points to maxAgeInSeconds', () => {
    const r = lb('{"maxAge": 3600}');
    expect(r.config).toEqual({});
    expect(r.reasons).toEqual(['warning:UnknownField']);
    expect(r.diagnostics[0]!.message).toContain('OCI would ignore it');
    expect(r.diagnostics[0]!.message).toContain('maxAgeInSeconds');
    expect(r.diagnostics[0]!.message).toContain('line 1, column 2');
  });

  it('warns that null turns persistence on with defaults', () => {
    const r = lb('null');
    expect(r.config).toEqual({});
    expect(r.reasons).toEqual(['warning:InvalidAnnotation']);
  });
});

describe('readAppCookieConfig', () => {
  it('reads the name and disableFallback as written', () => {
    expect(app('{"cookieName":" S ","disableFallback":false}').config).toEqual({
      cookieName: ' S ',
      disableFallback: false,
    });
  });

  it('says where an LB-cookie field belongs', () => {
    const r = app('{"cookieName":"S","isSecure":true}');
    expect(r.config).toEqual({ cookieName: 'S' });
    expect(r.diagnostics.map((d) => d.reason)).toEqual(['UnknownField']);
    expect(r.diagnostics[0]!.message).toContain('isSecure is a field of lb-key');
  });
});

describe('suggestField', () => {
  const known = ['cookieName', 'disableFallback', 'domain', 'path', 'maxAgeInSeconds'];
  it.each([
    ['maxAge', 'maxAgeInSeconds'],
    ['max_age', 'maxAgeInSeconds'],
    ['TTL', 'maxAgeInSeconds'],
    ['cookie_name', 'cookieName'],
    ['cokieName', 'cookieName'],
    ['domian', 'domain'],
    ['color', undefined],
    ['x'.repeat(1000), undefined],
  ])('%s → %s', (key, expected) => {
    expect(suggestField(key, known)).toBe(expected);
  });
});
