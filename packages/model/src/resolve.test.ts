import { describe, expect, it } from '@jest/globals';
import { PRECEDENCE, type Fragment, type FieldValues } from './fragment';
import type { EntryRef, SourceRef } from './refs';
import { refuseEntriesWithErrors, resolve } from './resolve';

const entry: EntryRef = {
  kind: 'Ingress',
  namespace: 'shop',
  name: 'web',
  rule: 'rules[0].paths[0]',
  listeners: [{ protocol: 'HTTP', port: 80 }],
};
const backend = { namespace: 'shop', service: 'web', port: 80 };

function src(dialect: SourceRef['dialect'], field: string, isDefault = false): SourceRef {
  const s: SourceRef = { dialect, kind: 'Ingress', namespace: 'shop', name: 'web', field };
  if (isDefault) s.isDefault = true;
  return s;
}

function frag(
  dialect: SourceRef['dialect'],
  values: FieldValues,
  precedence: number = PRECEDENCE.entry,
  e = entry,
): Fragment {
  return { type: 'entry', dialect, entry: e, backend, precedence, values };
}

const cookieByNginx: FieldValues = {
  mode: { value: 'cookie', source: src('ingress-nginx', 'nginx.ingress.kubernetes.io/affinity') },
  'cookie.name': {
    value: 'INGRESSCOOKIE',
    source: src('ingress-nginx', 'nginx.ingress.kubernetes.io/session-cookie-name', true),
  },
};

describe('resolve', () => {
  it('gives an entry without settings mode none and the model defaults', () => {
    const { entries, diagnostics } = resolve([frag('kubernetes', {})]);
    expect(diagnostics).toEqual([]);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.policy).toEqual({
      mode: 'none',
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
    expect(entries[0]!.loadBalancing).toEqual({ algorithm: 'roundRobin' });
  });

  it('lets an explicit value of another dialect replace a default, with a warning naming both', () => {
    const oci: FieldValues = {
      'cookie.name': {
        value: 'X-Oracle-OCI-cart',
        source: src('oci-native-ingress', 'lb-cookie-session-persistence-config'),
      },
    };
    const { entries, diagnostics } = resolve([
      frag('ingress-nginx', cookieByNginx),
      frag('oci-native-ingress', oci),
    ]);
    expect(entries[0]!.policy?.cookie?.name).toBe('X-Oracle-OCI-cart');
    expect(entries[0]!.sources['cookie.name']).toEqual([oci['cookie.name']!.source]);
    expect(diagnostics.map((d) => [d.reason, d.sources.map((s) => s.dialect)])).toEqual([
      ['DefaultOverridden', ['oci-native-ingress', 'ingress-nginx']],
    ]);
  });

  it('refuses two explicit persistence models on one entry and names both sources', () => {
    const app: FieldValues = {
      mode: { value: 'appCookie', source: src('oci-native-ingress', 'session-persistence-config') },
    };
    const { entries, diagnostics } = resolve([
      frag('ingress-nginx', cookieByNginx),
      frag('oci-native-ingress', app),
    ]);
    expect(entries[0]!.accepted).toBe(false);
    expect(entries[0]!.policy).toBeNull();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.reason).toBe('ConflictingPersistence');
    expect(diagnostics[0]!.sources.map((s) => s.field).sort()).toEqual([
      'nginx.ingress.kubernetes.io/affinity',
      'session-persistence-config',
    ]);
  });

  it('lets higher precedence win over a lower explicit value with a ValueOverridden warning', () => {
    const service: FieldValues = {
      mode: {
        value: 'sourceIp',
        source: src('huawei-cce', 'kubernetes.io/elb.session-affinity-mode'),
      },
    };
    const ingress: FieldValues = {
      mode: {
        value: 'cookie',
        source: src('huawei-cce', 'kubernetes.io/elb.session-affinity-mode'),
      },
      'cookie.name': cookieByNginx['cookie.name']!,
    };
    const backendWide: Fragment = {
      type: 'backend',
      dialect: 'huawei-cce',
      target: { namespace: 'shop', service: 'web' },
      precedence: PRECEDENCE.serviceOverride,
      values: service,
    };
    const { entries, diagnostics } = resolve([frag('huawei-cce', ingress), backendWide]);
    expect(entries[0]!.policy?.mode).toBe('sourceIp');
    expect(diagnostics.map((d) => d.reason)).toContain('ValueOverridden');
  });

  it('warns of a Secure-only cookie on an entry served over plain HTTP only (dialects that refuse it say so)', () => {
    const values: FieldValues = {
      ...cookieByNginx,
      'cookie.secure': {
        value: 'always',
        source: src('ingress-nginx', 'nginx.ingress.kubernetes.io/session-cookie-secure'),
      },
    };
    const { entries, diagnostics } = resolve([frag('ingress-nginx', values)]);
    expect(entries[0]!.accepted).toBe(true);
    expect(diagnostics.map((d) => [d.severity, d.reason])).toEqual([
      ['warning', 'InsecureCookieOnHttpListener'],
    ]);
    const https = {
      ...entry,
      listeners: [...entry.listeners, { protocol: 'HTTPS' as const, port: 443 }],
    };
    expect(
      resolve([frag('ingress-nginx', values, PRECEDENCE.entry, https)]).entries[0]!.accepted,
    ).toBe(true);
  });

  it('refuses cookie persistence on a TCP-only listener', () => {
    const tcp = {
      ...entry,
      kind: 'Service',
      rule: 'port 80',
      listeners: [{ protocol: 'TCP' as const, port: 80 }],
    };
    const { diagnostics } = resolve([frag('ingress-nginx', cookieByNginx, PRECEDENCE.entry, tcp)]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['PersistenceOnTcpListener']);
  });

  it('applies a backend-wide fragment to every entry that routes to its Service', () => {
    const other = { ...entry, rule: 'rules[1].paths[0]' };
    const wide: Fragment = {
      type: 'backend',
      dialect: 'gateway-api',
      target: { namespace: 'shop', service: 'web' },
      precedence: PRECEDENCE.backendPolicy,
      values: {
        mode: { value: 'header', source: src('gateway-api', 'spec.sessionPersistence.type') },
        'header.name': {
          value: 'x-session',
          source: src('gateway-api', 'spec.sessionPersistence.header.name'),
        },
      },
    };
    const { entries } = resolve([
      frag('kubernetes', {}),
      frag('kubernetes', {}, PRECEDENCE.entry, other),
      wide,
    ]);
    expect(entries.map((e) => e.policy?.header?.name)).toEqual(['x-session', 'x-session']);
  });
});

describe('refuseEntriesWithErrors', () => {
  it('refuses the entries of an object an error names and leaves the others', () => {
    const other = { ...entry, name: 'other' };
    const { entries } = resolve([
      frag('kubernetes', {}),
      frag('kubernetes', {}, PRECEDENCE.entry, other),
    ]);
    const bad = {
      severity: 'error' as const,
      reason: 'InvalidAnnotation' as const,
      message: 'bad',
      sources: [src('ingress-nginx', 'x')],
    };
    const out = refuseEntriesWithErrors(entries, [
      bad,
      {
        ...bad,
        severity: 'warning' as const,
        sources: [{ ...src('ingress-nginx', 'y'), name: 'other' }],
      },
    ]);
    expect(out.map((e) => [e.entry.name, e.accepted, e.policy?.mode ?? null])).toEqual([
      ['other', true, 'none'],
      ['web', false, null],
    ]);
  });
});
