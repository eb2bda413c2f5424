import { describe, expect, it } from '@jest/globals';
import { CompiledTable } from './runtime';
import { createRouteTable } from './table/create';
import type { AcceptedRouteTable, BackendSet, ListenerRoutes } from './table/types';
import { compileContext, plainSet } from '../../../test/support/dataplane';

function listener(
  hostname: string | undefined,
  routes: [host: string, path: string, set: BackendSet][],
): ListenerRoutes {
  const l: ListenerRoutes = {
    protocol: 'HTTP',
    port: 8000,
    hosts: routes.map(([host, path, set]) => ({
      host,
      wildcardLabels: 'many' as const,
      paths: [{ path, pathType: 'Prefix' as const, backendSet: set }],
    })),
  };
  if (hostname !== undefined) l.hostname = hostname;
  return l;
}

function table(version: string, listeners: ListenerRoutes[]): AcceptedRouteTable {
  return createRouteTable({ version, listeners });
}

describe('listener isolation', () => {
  const ctx = compileContext();
  const wild = plainSet('wild', '10.0.0.1');
  const exact = plainSet('exact', '10.0.0.2');
  const open = plainSet('open', '10.0.0.3');
  const any = plainSet('any', '10.0.0.4');
  const ingress = plainSet('ingress', '10.0.0.5');
  const listeners = [
    listener('*.example.com', [['*.example.com', '/', wild]]),
    listener('foo.example.com', [['foo.example.com', '/only', exact]]),
    listener('*', [['open.test', '/', open]]),
  ];

  it('matches a host against the most specific listener hostname it falls under, and only there', () => {
    const m = new CompiledTable(table('1', listeners), ctx).matcher('HTTP', 8000, true);
    expect(m.match('bar.example.com', '/x')?.id).toBe('wild');
    expect(m.match('a.b.example.com', '/')?.id).toBe('wild');
    expect(m.match('foo.example.com', '/only')?.id).toBe('exact');
    expect(m.match('foo.example.com', '/x')).toBeUndefined();
    // Under no listener hostname: the listener without one.
    expect(m.match('open.test', '/')?.id).toBe('open');
    expect(m.match('example.com', '/')).toBeUndefined();
  });

  it('tries the routes of no Gateway listener when the chosen listener has none for a request', () => {
    const shared = [
      listener('*.example.com', [['api.example.com', '/', wild]]),
      listener('*', [['*', '/gateway', any]]),
      listener(undefined, [
        ['shop.example.com', '/', ingress],
        ['other.test', '/', ingress],
      ]),
    ];
    const m = new CompiledTable(table('1', shared), ctx).matcher('HTTP', 8000, true);
    expect(m.match('api.example.com', '/')?.id).toBe('wild');
    // Under the Gateway's *.example.com, which has no route for it: the Ingress.
    expect(m.match('shop.example.com', '/')?.id).toBe('ingress');
    // The Gateway listener without hostname, then the Ingress.
    expect(m.match('other.test', '/gateway')?.id).toBe('any');
    expect(m.match('other.test', '/')?.id).toBe('ingress');
    // Never another Gateway listener's route: new.example.com is under *.example.com, so the
    // listener without hostname, whose `*` would take it, is not tried.
    expect(m.match('new.example.com', '/gateway')).toBeUndefined();
  });

  it('rebuilds the isolation on a table swap that changes a listener’s hosts', () => {
    const first = new CompiledTable(table('1', listeners), ctx);
    first.matcher('HTTP', 8000, true);
    const moved = plainSet('exact', '10.0.0.9');
    const second = new CompiledTable(
      table('2', [
        listeners[0]!,
        listener('foo.example.com', [['foo.example.com', '/', moved]]),
        listeners[2]!,
      ]),
      ctx,
      first,
    );
    const m = second.matcher('HTTP', 8000, true);
    expect(m.match('foo.example.com', '/x')?.endpoints[0]?.address).toBe('10.0.0.9');
    expect(m.match('bar.example.com', '/x')?.id).toBe('wild');
  });

  it('refuses a table whose listener hostname is not a host name', () => {
    expect(() =>
      createRouteTable({ version: '1', listeners: [listener('Not A Host', [])] }),
    ).toThrow(/hostname: must be a lower-case host name/);
  });
});
