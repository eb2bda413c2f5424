import { describe, expect, it } from '@jest/globals';
import { ingress } from '../../../test/support/dialects/ingress-nginx';
import { ADOPT_COOKIES, ADOPT_COOKIES_UNTIL } from './adoption';
import { analyze, type KubeObject } from './index';

const sticky = {
  affinity: 'cookie',
  'session-cookie-name': 'route',
};

function findings(object: KubeObject): string[] {
  return analyze([object])
    .diagnostics.filter((d) => d.severity !== 'info')
    .map((d) => `${d.severity} ${d.reason}: ${d.message}`);
}

describe('tether.dev/adopt-cookies', () => {
  it('puts the adoption on every entry point of the object it is on, whatever its dialect', () => {
    const object = ingress(
      {
        ...sticky,
        [ADOPT_COOKIES]: 'ingress-nginx, traefik=_tsticky',
        [ADOPT_COOKIES_UNTIL]: '2027-01-31T00:00:00Z',
      },
      { paths: ['/a', '/b'] },
    );
    const analysis = analyze([object]);
    expect(analysis.entries.map((e) => e.policy?.adoptCookies)).toEqual([
      {
        sources: [{ format: 'ingress-nginx' }, { format: 'traefik', cookieName: '_tsticky' }],
        until: '2027-01-31T00:00:00Z',
      },
      {
        sources: [{ format: 'ingress-nginx' }, { format: 'traefik', cookieName: '_tsticky' }],
        until: '2027-01-31T00:00:00Z',
      },
    ]);
    expect(analysis.entries[0]?.sources['adoptCookies.sources']?.[0]).toMatchObject({
      dialect: 'tether',
      field: ADOPT_COOKIES,
    });
    expect(findings(object)).toEqual([]);
  });

  it('says why OCI and Huawei cookies cannot be adopted, and keeps the formats it can read', () => {
    const object = ingress({ ...sticky, [ADOPT_COOKIES]: 'oci,ingress-nginx,nginx' });
    expect(findings(object)).toEqual([
      `warning InvalidAnnotation: ${ADOPT_COOKIES}: oci cannot be adopted: OCI's cookies are opaque values keyed by Oracle's load balancer; no other proxy can tell which backend one names; ignored`,
      `warning InvalidAnnotation: ${ADOPT_COOKIES}: "nginx" is not a cookie format Tether can adopt (ingress-nginx, openshift, envoy-gateway, traefik); ignored`,
    ]);
    expect(analyze([object]).entries[0]?.policy?.adoptCookies).toEqual({
      sources: [{ format: 'ingress-nginx' }],
    });
  });

  it('refuses an end date it cannot read rather than adopting forever', () => {
    const object = ingress({
      ...sticky,
      [ADOPT_COOKIES]: 'openshift',
      [ADOPT_COOKIES_UNTIL]: 'next month',
    });
    const analysis = analyze([object]);
    expect(analysis.entries.every((e) => !e.accepted)).toBe(true);
    expect(findings(object)).toEqual([
      `error InvalidAnnotation: ${ADOPT_COOKIES_UNTIL}: "next month" is not an RFC 3339 date and time with a zone (for example 2027-01-31T00:00:00Z)`,
    ]);
  });

  it('warns where it has no effect: no cookie persistence, an end date alone, no entry point', () => {
    expect(findings(ingress({ [ADOPT_COOKIES]: 'ingress-nginx' }))).toEqual([
      'warning IneffectiveSetting: adoptCookies.sources has no effect with none persistence',
    ]);
    expect(findings(ingress({ ...sticky, [ADOPT_COOKIES_UNTIL]: '2027-01-31T00:00:00Z' }))).toEqual(
      [`warning IneffectiveSetting: ${ADOPT_COOKIES_UNTIL} has no effect without ${ADOPT_COOKIES}`],
    );
    const service: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop', annotations: { [ADOPT_COOKIES]: 'openshift' } },
      spec: { ports: [{ port: 80 }] },
    };
    expect(findings(service)).toEqual([
      `warning IneffectiveSetting: ${ADOPT_COOKIES} has no effect on Service web: it has no entry points; put it on the Ingress, Route, HTTPRoute or LoadBalancer Service`,
    ]);
  });

  it('warns of a tether.dev annotation it does not read', () => {
    expect(findings(ingress({ ...sticky, 'tether.dev/adopt-cookie': 'ingress-nginx' }))).toEqual([
      `warning UnknownAnnotation: tether.dev/adopt-cookie is not an annotation Tether reads (${ADOPT_COOKIES}, ${ADOPT_COOKIES_UNTIL}); it has no effect here (misspelt?)`,
    ]);
  });
});
