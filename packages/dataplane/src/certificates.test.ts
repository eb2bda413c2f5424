import { beforeAll, describe, expect, it } from '@jest/globals';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { CertificateStore } from './certificates';
import type { TlsCertificate } from './table/types';

let pem: PemPair;

beforeAll(() => {
  pem = selfSignedCertificate('unit.test');
});

describe('CertificateStore', () => {
  it('picks the exact name, then a wildcard of one label, else nothing', () => {
    const store = new CertificateStore();
    const exact: TlsCertificate = { hosts: ['a.example.com'], ...pem };
    const wild: TlsCertificate = { hosts: ['*.example.com'], ...pem };
    expect(store.update([exact, wild])).toEqual([]);
    const ofExact = store.select('a.example.com');
    const ofWild = store.select('b.example.com');
    expect(ofExact).toBeDefined();
    expect(ofWild).toBeDefined();
    expect(ofExact).not.toBe(ofWild);
    const cases: [string, unknown][] = [
      ['A.EXAMPLE.COM', ofExact],
      ['a.example.com.', ofExact],
      ['zz.example.com', ofWild],
      ['example.com', undefined],
      ['x.b.example.com', undefined],
      ['', undefined],
      ['other.test', undefined],
    ];
    // By identity: two contexts look alike to a structural comparison.
    for (const [name, context] of cases)
      expect({ name, same: store.select(name) === context }).toEqual({ name, same: true });
  });

  it('the first certificate listed for a name wins', () => {
    const store = new CertificateStore();
    const first: TlsCertificate = { hosts: ['a.example.com'], ...pem };
    const second: TlsCertificate = { hosts: ['a.example.com', 'b.example.com'], ...pem };
    store.update([first, second]);
    const a = store.select('a.example.com');
    store.update([first]);
    expect(store.select('a.example.com')).toBe(a);
    store.update([second]);
    expect(store.select('a.example.com')).not.toBe(a);
  });

  it('skips what cannot be loaded and never throws', () => {
    const store = new CertificateStore();
    const good: TlsCertificate = { hosts: ['good.test'], ...pem };
    const hostile: unknown[] = [
      null,
      'text',
      { hosts: 'good.test', ...pem },
      { hosts: ['bad.test'], cert: 'garbage', key: 'garbage' },
      { hosts: ['swapped.test'], cert: pem.key, key: pem.cert },
      { hosts: ['wrong.test'], cert: 42, key: {} },
      { hosts: [7, '', '*', 'a*.test', '*.'], ...pem },
      good,
    ];
    const skipped = store.update(hostile);
    expect(skipped?.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(store.names).toBe(1);
    expect(store.select('good.test')).toBeDefined();
    for (const name of ['bad.test', 'swapped.test', 'wrong.test', 'a.test'])
      expect(store.select(name)).toBeUndefined();
    expect(store.update({ not: 'a list' })).toEqual([]);
    expect(store.names).toBe(0);
  });

  it('keeps the lookups for the same list, and the contexts for the same certificates', () => {
    const store = new CertificateStore();
    const cert: TlsCertificate = { hosts: ['a.example.com'], ...pem };
    const list = [cert];
    expect(store.update(list)).toEqual([]);
    const context = store.select('a.example.com');
    // The same list: nothing to do (a table that changed only its routes).
    expect(store.update(list)).toBeUndefined();
    // Another list with the same certificate object: the context is reused.
    store.update([cert]);
    expect(store.select('a.example.com')).toBe(context);
    // An equal but new certificate object gets a context of its own.
    store.update([{ ...cert }]);
    expect(store.select('a.example.com')).not.toBe(context);
  });
});
