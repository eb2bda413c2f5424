/**
 * The server name a TLS client asks for, read from its ClientHello without taking part in
 * the handshake (RFC 8446 §4.1.2, RFC 6066 §3), so that a passthrough route can send the
 * connection on as it came. Every length is checked against what is there: any input gives an
 * answer, never an exception.
 */

/** The most a ClientHello is waited for: one TLS record and its header. */
export const MAX_CLIENT_HELLO = 5 + 16384;

export type ServerNameResult =
  /** More bytes are needed to tell. */
  | { state: 'partial' }
  /** A ClientHello, with the name it carries (undefined: it names none). */
  | { state: 'hello'; name: string | undefined }
  /** Not a TLS ClientHello in one record: not for passthrough. */
  | { state: 'other' };

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function readServerName(buf: Buffer): ServerNameResult {
  if (buf.length < 5)
    return buf.length > 0 && buf[0] !== 22 ? { state: 'other' } : { state: 'partial' };
  // A handshake record of TLS 1.0 to 1.3 (the record version says 3.1 in every one of them).
  if (buf[0] !== 22 || buf[1] !== 3) return { state: 'other' };
  const recordLength = buf.readUInt16BE(3);
  if (recordLength > 16384 || recordLength < 4) return { state: 'other' };
  if (buf.length < 5 + recordLength) return { state: 'partial' };
  const record = buf.subarray(5, 5 + recordLength);
  if (record[0] !== 1) return { state: 'other' };
  const helloLength = (record[1]! << 16) | (record[2]! << 8) | record[3]!;
  // A ClientHello split over records is legal but nothing sends one: not read.
  if (helloLength + 4 > record.length) return { state: 'other' };
  const hello = record.subarray(4, 4 + helloLength);
  let at = 2 + 32; // version, random
  if (at + 1 > hello.length) return { state: 'other' };
  at += 1 + hello[at]!; // session id
  if (at + 2 > hello.length) return { state: 'other' };
  at += 2 + hello.readUInt16BE(at); // cipher suites
  if (at + 1 > hello.length) return { state: 'other' };
  at += 1 + hello[at]!; // compression methods
  if (at === hello.length) return { state: 'hello', name: undefined };
  if (at + 2 > hello.length) return { state: 'other' };
  const end = at + 2 + hello.readUInt16BE(at);
  if (end > hello.length) return { state: 'other' };
  at += 2;
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    at += 4;
    if (at + length > end) return { state: 'other' };
    if (type === 0) return { state: 'hello', name: serverNameOf(hello.subarray(at, at + length)) };
    at += length;
  }
  return { state: 'hello', name: undefined };
}

/** The host_name entry of a server_name extension, lower case; undefined when malformed. */
function serverNameOf(ext: Buffer): string | undefined {
  if (ext.length < 2) return undefined;
  const end = 2 + ext.readUInt16BE(0);
  if (end > ext.length) return undefined;
  let at = 2;
  while (at + 3 <= end) {
    const type = ext[at]!;
    const length = ext.readUInt16BE(at + 1);
    at += 3;
    if (at + length > end) return undefined;
    if (type === 0) {
      const name = ext
        .subarray(at, at + length)
        .toString('latin1')
        .toLowerCase();
      return name.length <= 253 && HOST_NAME.test(name) ? name : undefined;
    }
    at += length;
  }
  return undefined;
}
