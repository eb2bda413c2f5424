/**
 * Each previous controller's cookie value, computed here by its published algorithm and
 * checked against values computed outside this code (md5sum, sha256sum, base64, and Python's
 * zlib for the CRC-32 ring), so a mistake in both places at once would have to be made twice.
 */
import { describe, expect, it } from '@jest/globals';
import { crc32 } from './crc32';
import { envoyAddress, envoyCookieAddress } from './envoy';
import { backendKey, ChashRing, persistentKey, splitValue, upstreamName } from './ingress-nginx';
import { routerCookieValue, routerEndpointId } from './openshift';
import { fnv1Hex, traefikCookieValues } from './traefik';

describe('ingress-nginx', () => {
  // internal/ingress/controller/util.go `upstreamName`: <namespace>-<service>-<port>.
  it('names the upstream of a Service port by number or name', () => {
    expect(upstreamName({ namespace: 'shop', service: 'web', port: 80 })).toBe('shop-web-80');
    expect(upstreamName({ namespace: 'shop', service: 'web', port: 'http' })).toBe('shop-web-http');
  });

  // util/nodemap.lua `create_map`: md5_hex(salt .. "address:port"), the salt being the
  // upstream's name (balancer/sticky_persistent.lua `new`).
  // printf '%s' 'shop-web-80' '10.0.0.2:8080' | md5sum
  it('keys persistent mode by md5 of the upstream name and the endpoint', () => {
    expect(persistentKey('shop-web-80', '10.0.0.2', 8080)).toBe('7e6f086d2c018fea7e77307a4d657522');
  });

  // balancer/sticky.lua `sync`: md5_hex(md5_hex(name) .. name).
  // (printf '%s' shop-web-80 | md5sum | cut -c1-32 | tr -d '\n'; printf shop-web-80) | md5sum
  it('computes the backend key after the bar', () => {
    expect(backendKey('shop-web-80')).toBe('ad0f3520c2b4ae4ad7cae6da8d3345ed');
  });

  // balancer/sticky.lua `get_cookie_parsed`: the value splits at "|".
  it('splits the cookie value into its key and backend key', () => {
    expect(splitValue('abc|def')).toEqual({ key: 'abc', backend: 'def' });
    expect(splitValue('abc')).toEqual({ key: 'abc', backend: undefined });
    expect(splitValue('|def')).toBeUndefined();
  });

  it('computes the standard CRC-32 that ngx.crc32_short returns', () => {
    // python3 -c "import zlib; print(zlib.crc32(b'123456789'))" → 3421780262 (0xcbf43926)
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  // lua-resty-balancer chash.c `chash_point_init_crc` and chash.lua `find`, reimplemented in
  // Python with zlib.crc32 (zlib.crc32(data, ~register) continues a raw register) for these.
  it('places balanced-mode keys where lua-resty-balancer puts them', () => {
    const nodes = ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080'];
    const ring = new ChashRing(nodes);
    const found = (key: string): string | undefined => nodes[ring.find(key) ?? -1];
    expect(found('1733500000.123.4567')).toBe('10.0.0.2:8080');
    expect(found('1733500001.1.42')).toBe('10.0.0.3:8080');
    expect(found('1733500002.77.999999')).toBe('10.0.0.1:8080');
    expect(found('1733500003.5.1')).toBe('10.0.0.3:8080');
    expect(found('17.1.1')).toBe('10.0.0.1:8080');
    expect(new ChashRing([]).find('1.1.1')).toBeUndefined();
  });
});

describe('openshift', () => {
  // pkg/router/template/plugin.go `createRouterEndpoints`: IdHash = md5 hex of the ID.
  // printf '%s' 'pod:web-7d9c-2:web:http:10.0.0.2:8080' | md5sum
  it('hashes the router endpoint ID of a Pod address', () => {
    const id = routerEndpointId('web', 'http', '10.0.0.2', 8080, 'web-7d9c-2');
    expect(id).toBe('pod:web-7d9c-2:web:http:10.0.0.2:8080');
    expect(routerCookieValue(id)).toBe('4500d9044f08813b1fc9553bb081c6fa');
  });

  // printf '%s' 'ept:web::10.0.0.2:8080' | md5sum
  it('uses the ept form for an address without a Pod and a port without a name', () => {
    const id = routerEndpointId('web', '', '10.0.0.2', 8080, undefined);
    expect(id).toBe('ept:web::10.0.0.2:8080');
    expect(routerCookieValue(id)).toBe('5bc555722e70c6091cce29b46348a47d');
  });
});

describe('envoy-gateway', () => {
  // source/extensions/http/stateful_session/cookie/cookie.cc `onUpdate`: base64 of the host's
  // address. printf '%s' 10.0.0.2:8080 | base64 → MTAuMC4wLjI6ODA4MA==
  it('reads the base64 address, quoted as Envoy writes it or not', () => {
    expect(envoyCookieAddress('"MTAuMC4wLjI6ODA4MA=="')).toBe('10.0.0.2:8080');
    expect(envoyCookieAddress('MTAuMC4wLjI6ODA4MA==')).toBe('10.0.0.2:8080');
  });

  // cookie.proto: message Cookie { string address = 1; uint64 expires = 2; }
  it('reads the address out of the protobuf form, with or without an expiry', () => {
    const address = Buffer.from('10.0.0.2:8080');
    const withExpiry = Buffer.concat([
      Buffer.from([0x0a, address.length]),
      address,
      Buffer.from([0x10, 0xe8, 0x07]),
    ]);
    expect(envoyCookieAddress(withExpiry.toString('base64'))).toBe('10.0.0.2:8080');
  });

  it('writes IPv6 hosts in brackets, as Envoy prints them', () => {
    expect(envoyAddress('fd00::2', 8080)).toBe('[fd00::2]:8080');
  });

  it('refuses what is not base64', () => {
    expect(envoyCookieAddress('not base64!')).toBeUndefined();
    expect(envoyCookieAddress('')).toBeUndefined();
  });
});

describe('traefik', () => {
  // pkg/server/service/loadbalancer/sticky.go `sha256Hash`: 16 hex digits of SHA-256 of the
  // server URL. printf '%s' http://10.0.0.2:8080 | sha256sum | cut -c1-16
  // `fnvHash`: FNV-1 64 in hex (Go hash/fnv New64), computed with a Python FNV-1 for these.
  it('accepts the hashed URL and the forms of earlier releases', () => {
    expect(traefikCookieValues('http://10.0.0.2:8080')).toEqual([
      'd1a653a6b43e2e0b',
      'http://10.0.0.2:8080',
      'eb10c380a478af06',
      'b8cbc2c76a961f28',
    ]);
    expect(fnv1Hex('')).toBe('cbf29ce484222325');
  });
});
