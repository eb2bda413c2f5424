import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubeObject } from '@tether/dialects';
import { error, info, warning, type Reason, type SourceRef } from '@tether/model';
import { eventTypeOf } from './classify';
import { acceptedDraft, DraftCache, draftsOf } from './drafts';
import { composeNote, NOTE_LIMIT_BYTES, oneLine, truncateUtf8 } from './note';
import { directoryOf, fieldValueOf, referenceOf } from './objects';

const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-ing',
    resourceVersion: '7',
    annotations: { 'nginx.ingress.kubernetes.io/affinity': 'cookie', 'a/b': 'line\r\nbreak' },
  },
  spec: { rules: [{ host: 'shop.example', http: { paths: [{ path: '/' }] } }] },
};
const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'api', namespace: 'shop', uid: 'u-svc' },
  spec: { sessionAffinity: 'ClientIP' },
};
const ingressClass: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'tether' },
};
const directory = directoryOf([ingress, service, ingressClass]);

function on(o: KubeObject, field: string, extra: Partial<SourceRef> = {}): SourceRef {
  return {
    dialect: 'ingress-nginx',
    kind: o.kind,
    namespace: o.metadata.namespace ?? 'default',
    name: o.metadata.name,
    field,
    ...extra,
  };
}

describe('eventTypeOf', () => {
  it.each<[string, 'error' | 'warning' | 'info', Reason, string | undefined]>([
    ['an error', 'error', 'ValueNormalised', 'Warning'],
    ['a conflict', 'error', 'ConflictingPersistence', 'Warning'],
    ['an ignored annotation', 'warning', 'InvalidAnnotation', 'Warning'],
    ['an overridden value', 'warning', 'ValueOverridden', 'Warning'],
    ['a route not served', 'warning', 'DuplicateRoute', 'Warning'],
    ['a normalised spelling', 'warning', 'ValueNormalised', 'Normal'],
    ['a default that gave way', 'warning', 'DefaultOverridden', 'Normal'],
    ['an approximation', 'warning', 'NotReproduced', 'Normal'],
    ['an info', 'info', 'IneffectiveSetting', undefined],
  ])('%s → %s', (_, severity, reason, type) => {
    expect(eventTypeOf({ severity, reason })).toBe(type);
  });
});

describe('draftsOf', () => {
  it('writes one draft per object, each naming its annotations with values and the other object', () => {
    const d = warning(
      'ValueOverridden',
      'mode: "cookie" overrides "clientIP"',
      on(ingress, 'nginx.ingress.kubernetes.io/affinity'),
      on(service, 'spec.sessionAffinity'),
    );
    const drafts = draftsOf(d, directory);
    expect(drafts.map((x) => [x.objectId, x.type, x.reason, x.related?.kind])).toEqual([
      ['Ingress/shop/web', 'Warning', 'ValueOverridden', 'Service'],
      ['Service/shop/api', 'Warning', 'ValueOverridden', 'Ingress'],
    ]);
    expect(drafts[0]!.regarding).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: 'shop',
      name: 'web',
      uid: 'u-ing',
      resourceVersion: '7',
    });
    expect(drafts[0]!.note).toBe(
      'mode: "cookie" overrides "clientIP" [annotation nginx.ingress.kubernetes.io/affinity="cookie"; also Service shop/api spec.sessionAffinity]',
    );
    expect(drafts[1]!.note).toBe(
      'mode: "cookie" overrides "clientIP" [spec.sessionAffinity="ClientIP"; also Ingress shop/web nginx.ingress.kubernetes.io/affinity]',
    );
  });

  it('gives one draft for several sources on one object, and keys it by object, type, reason and note', () => {
    const d = error(
      'ConflictingPersistence',
      'two models',
      on(ingress, 'nginx.ingress.kubernetes.io/affinity'),
      on(ingress, 'a/b'),
      on(ingress, 'x/default', { isDefault: true }),
    );
    const [draft, ...rest] = draftsOf(d, directory);
    expect(rest).toEqual([]);
    // The value with CR/LF is quoted, so the note stays one line.
    expect(draft!.note).toBe(
      'two models [annotation nginx.ingress.kubernetes.io/affinity="cookie"; annotation a/b="line\\r\\nbreak"; default of ingress-nginx for x/default]',
    );
    const again = draftsOf({ ...d }, directory)[0]!;
    expect(again.key).toBe(draft!.key);
    expect(draftsOf({ ...d, message: 'other' }, directory)[0]!.key).not.toBe(draft!.key);
  });

  it('skips objects the directory does not have, diagnostics without sources, and infos', () => {
    const gone: SourceRef = { ...on(ingress, 'a/b'), name: 'deleted' };
    expect(draftsOf(error('InvalidAnnotation', 'bad', gone), directory)).toEqual([]);
    expect(draftsOf(error('UnreadableFile', 'x: no such file'), directory)).toEqual([]);
    expect(draftsOf(info('IneffectiveSetting', 'fyi', on(ingress, 'a/b')), directory)).toEqual([]);
  });

  it('leaves the namespace out of a cluster-scoped object and builds references without a directory', () => {
    const d = warning('InvalidObject', 'bad class', on(ingressClass, 'spec.controller'));
    expect(draftsOf(d, directory)[0]!.regarding).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      name: 'tether',
    });
    const bare = draftsOf(d)[0]!;
    expect(bare.regarding).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      name: 'tether',
    });
    expect(bare.note).toBe('bad class [spec.controller]');
  });

  it('names the object in the Accepted draft', () => {
    const draft = acceptedDraft(referenceOf(ingress));
    expect(draft).toMatchObject({
      type: 'Normal',
      reason: 'Accepted',
      objectId: 'Ingress/shop/web',
    });
    expect(draft.note).toMatch(/^Ingress shop\/web: configuration accepted/);
    expect(acceptedDraft(referenceOf(ingressClass)).note).toMatch(/^IngressClass tether: /);
  });
});

describe('DraftCache', () => {
  it('reuses drafts while the diagnostic and its objects are the same, and redoes them after a change', () => {
    const cache = new DraftCache();
    const d = error(
      'InvalidAnnotation',
      'bad',
      on(ingress, 'nginx.ingress.kubernetes.io/affinity'),
    );
    const first = cache.draftsOf(d, directory);
    expect(cache.draftsOf(d, directoryOf([ingress, service]))).toBe(first);
    const changed: KubeObject = {
      ...ingress,
      metadata: {
        ...ingress.metadata,
        annotations: { 'nginx.ingress.kubernetes.io/affinity': 'none' },
      },
    };
    const after = cache.draftsOf(d, directoryOf([changed]));
    expect(after[0]!.note).toContain('="none"');
    expect(cache.draftsOf({ ...d }, directoryOf([changed]))).toEqual(after);
    expect(cache.draftsOf(d, directoryOf([]))).toEqual([]);
  });
});

describe('fieldValueOf', () => {
  it.each<[string, unknown]>([
    ['nginx.ingress.kubernetes.io/affinity', { place: 'annotation', value: 'cookie' }],
    ['spec.rules[0].host', { place: 'field', value: 'shop.example' }],
    ['spec.rules[0].http.paths[0].path', { place: 'field', value: '/' }],
    ['spec.rules[3].host', undefined],
    ['rules[0].paths[1]', undefined],
    ['__proto__', undefined],
    ['spec.rules.constructor', undefined],
    ['', undefined],
    ['.'.repeat(40), undefined],
  ])('%s', (field, expected) => {
    expect(fieldValueOf(ingress, field)).toEqual(expected);
  });
});

describe('notes', () => {
  it('cuts on a code point and marks the cut', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('abcd', 3)).toBe('…');
    expect(truncateUtf8('ééééé', 8)).toBe('éé…');
    expect(truncateUtf8('😀😀', 7)).toBe('😀…');
    expect(truncateUtf8('abc', 2)).toBe('');
  });

  it('makes one line of control characters and line separators', () => {
    expect(oneLine('a\r\nb\tc\u0000d\u2028e\u0085f')).toBe('a  b c d e f');
  });

  it('keeps every note within 1024 bytes and keeps the places when the message is huge', () => {
    const note = composeNote('x'.repeat(5000), ['annotation a/b="1"']);
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(NOTE_LIMIT_BYTES);
    expect(note.endsWith('… [annotation a/b="1"]')).toBe(true);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 3000 }),
        fc.array(fc.string({ maxLength: 500 })),
        (m, places) => {
          const composed = composeNote(m, places);
          expect(Buffer.byteLength(composed)).toBeLessThanOrEqual(NOTE_LIMIT_BYTES);
          expect(composed).not.toMatch(/[\r\n]/);
        },
      ),
    );
  });
});
