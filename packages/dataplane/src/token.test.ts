import { describe, expect, it } from '@jest/globals';
import { TokenCodec, type SessionToken } from './token';

const key = Buffer.alloc(32, 7);
const token: SessionToken = {
  kind: 'endpoint',
  canary: false,
  id: 'AAECAwQFBgcI',
  issuedAt: 1_800_000_000,
  seenAt: 1_800_000_100,
  expiresAt: 1_800_003_600,
};

describe('session tokens', () => {
  it('round-trips and is opaque', () => {
    const codec = new TokenCodec(key);
    const value = codec.encode('set-a', token);
    expect(value).toMatch(/^[A-Za-z0-9_-]{47}$/);
    expect(codec.decode('set-a', value)).toEqual(token);
    expect(value).not.toContain('127.0.0.1');
  });

  it('refuses another scope, another key, and any flipped character', () => {
    const codec = new TokenCodec(key);
    const value = codec.encode('set-a', { ...token, kind: 'key', canary: true });
    expect(codec.decode('set-b', value)).toBeNull();
    expect(new TokenCodec(Buffer.alloc(32, 8)).decode('set-a', value)).toBeNull();
    for (let i = 0; i < value.length; i++) {
      const c = value[i] === 'A' ? 'B' : 'A';
      const tampered = value.slice(0, i) + c + value.slice(i + 1);
      expect(codec.decode('set-a', tampered)).toBeNull();
    }
  });

  it.each([
    '',
    ' ',
    'x'.repeat(47),
    'é'.repeat(47),
    '\r\n'.repeat(20),
    'a'.repeat(10000),
    '%00%00',
  ])('rejects hostile value %#', (v) => {
    expect(new TokenCodec(key).decode('s', v)).toBeNull();
  });

  it('makes the same endpoint id for the same inputs and key only', () => {
    const a = new TokenCodec(key).endpointId('s', 'ns/svc:80', '10.0.0.1', 8080);
    expect(new TokenCodec(key).endpointId('s', 'ns/svc:80', '10.0.0.1', 8080)).toBe(a);
    expect(new TokenCodec(key).endpointId('t', 'ns/svc:80', '10.0.0.1', 8080)).not.toBe(a);
    expect(
      new TokenCodec(Buffer.alloc(32, 9)).endpointId('s', 'ns/svc:80', '10.0.0.1', 8080),
    ).not.toBe(a);
  });

  it('refuses short keys and makes distinct random ids', () => {
    expect(() => new TokenCodec(Buffer.alloc(8))).toThrow();
    const codec = new TokenCodec(key);
    const ids = new Set(Array.from({ length: 1000 }, () => codec.randomId()));
    expect(ids.size).toBe(1000);
  });
});
