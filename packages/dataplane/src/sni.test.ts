import { describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect } from 'node:tls';
import { MAX_CLIENT_HELLO, readServerName } from './sni';

/** The first bytes Node's own TLS client sends (its ClientHello), for a name or none. */
async function clientHello(servername: string | undefined): Promise<Buffer> {
  let resolveHello: (b: Buffer) => void = () => undefined;
  const got = new Promise<Buffer>((resolve) => (resolveHello = resolve));
  const server = createServer((s: Socket) => {
    s.once('data', (d: Buffer) => {
      resolveHello(d);
      s.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    ...(servername ? { servername } : {}),
    rejectUnauthorized: false,
  });
  client.on('error', () => undefined);
  const hello = await got;
  server.close();
  return hello;
}

describe('readServerName', () => {
  it('reads the name of a real ClientHello, and none where the client sends none', async () => {
    expect(readServerName(await clientHello('DB.Example.Test'))).toEqual({
      state: 'hello',
      name: 'db.example.test',
    });
    expect(readServerName(await clientHello(undefined))).toEqual({
      state: 'hello',
      name: undefined,
    });
  });

  it('asks for more bytes until the record is whole, at any cut', async () => {
    const hello = await clientHello('db.example.test');
    for (let cut = 0; cut < hello.length; cut++)
      expect(readServerName(hello.subarray(0, cut)).state).toBe('partial');
  });

  it('says other for plain HTTP and never throws on mangled or random bytes', async () => {
    expect(readServerName(Buffer.from('GET / HTTP/1.1\r\n')).state).toBe('other');
    const hello = await clientHello('db.example.test');
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20000; i++) {
      const bytes = Buffer.from(hello);
      for (let j = random(8); j >= 0; j--) bytes[random(bytes.length)] = random(256);
      const cut = bytes.subarray(0, random(bytes.length + 1));
      const result = readServerName(cut);
      expect(['partial', 'hello', 'other']).toContain(result.state);
      if (result.state === 'hello' && result.name !== undefined)
        expect(result.name).toMatch(/^[a-z0-9.-]+$/);
    }
    expect(readServerName(Buffer.alloc(MAX_CLIENT_HELLO, 22)).state).toBe('other');
  });
});
