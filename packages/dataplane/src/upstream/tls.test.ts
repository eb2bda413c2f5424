import { describe, expect, it } from '@jest/globals';
import { upstreamTlsOf } from './tls';

describe('upstreamTlsOf', () => {
  it('trusts nothing when the CA it names is not loaded, rather than the well-known CAs', () => {
    for (const named of [{ caSecret: 'shop/gone' }, { caConfigMap: 'shop/gone' }]) {
      const tls = upstreamTlsOf(
        { backendProtocol: 'HTTPS', backendTls: { verify: true, serverName: 'a.svc', ...named } },
        new Map(),
      );
      expect(tls?.options.ca).toEqual([]);
      expect(tls?.trust).toMatch(/\(not loaded\)$/);
    }
  });

  it('verifies against the CA of the ConfigMap the table carries', () => {
    const tls = upstreamTlsOf(
      {
        backendProtocol: 'HTTPS',
        backendTls: { verify: true, serverName: 'a.svc', sni: true, caConfigMap: 'shop/ca' },
      },
      new Map([['ConfigMap:shop/ca', 'PEM']]),
    );
    expect(tls?.options).toMatchObject({
      ca: 'PEM',
      servername: 'a.svc',
      rejectUnauthorized: true,
    });
    expect(tls?.trust).toBe('ca.crt of ConfigMap shop/ca');
  });

  it('uses the system CAs for wellKnownCACertificates: System (no CA named)', () => {
    const tls = upstreamTlsOf(
      { backendProtocol: 'HTTPS', backendTls: { verify: true, serverName: 'a.example' } },
      new Map(),
    );
    expect(tls?.options.ca).toBeUndefined();
    expect(tls?.trust).toBe('the system CAs');
  });

  it('offers h2 by ALPN to GRPCS endpoints and http/1.1 to HTTPS ones', () => {
    expect(upstreamTlsOf({ backendProtocol: 'GRPCS' }, new Map())?.options.ALPNProtocols).toEqual([
      'h2',
    ]);
    expect(upstreamTlsOf({ backendProtocol: 'HTTPS' }, new Map())?.options.ALPNProtocols).toEqual([
      'http/1.1',
    ]);
    expect(upstreamTlsOf({ backendProtocol: 'GRPC' }, new Map())).toBeUndefined();
  });
});
