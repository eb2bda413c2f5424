/**
 * Envoy's stateful-session cookie (`envoy.http.stateful_session.cookie`, which Envoy Gateway
 * configures for Gateway API `sessionPersistence`). From envoyproxy/envoy
 * `source/extensions/http/stateful_session/cookie/cookie.h` and `cookie.cc`: the value is
 * base64 of the upstream's `address:port` (IPv6 in brackets), or, where the runtime flag
 * `stateful_session_encode_ttl_in_cookie` is on, base64 of an `envoy.Cookie` protobuf
 * (`cookie.proto`: field 1 `address`, field 2 `expires`). Envoy writes it in double quotes.
 * The `expires` field counts on Envoy's own monotonic clock, so no other process can judge
 * it; the end date of the adoption bounds these cookies instead.
 */

/** `address:port` as Envoy writes a host (IPv6 in brackets). */
export function envoyAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Reads a protobuf varint at `at`; undefined when it runs past the end or past 64 bits. */
function varint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const b = bytes[i] as number;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** The address in an `envoy.Cookie` message; undefined when the bytes are not one. */
function protoAddress(bytes: Uint8Array): string | undefined {
  let at = 0;
  let address: string | undefined;
  while (at < bytes.length) {
    const tag = varint(bytes, at);
    if (!tag) return undefined;
    at = tag.next;
    if (tag.value === 0x0a) {
      const length = varint(bytes, at);
      if (!length || length.next + length.value > bytes.length) return undefined;
      address = Buffer.from(bytes.subarray(length.next, length.next + length.value)).toString(
        'latin1',
      );
      at = length.next + length.value;
    } else if (tag.value === 0x10) {
      const expires = varint(bytes, at);
      if (!expires) return undefined;
      at = expires.next;
    } else return undefined;
  }
  return address;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The `address:port` a cookie value names; undefined when it does not parse. */
export function envoyCookieAddress(value: string): string | undefined {
  const unquoted =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (unquoted === '' || unquoted.length > 512 || !BASE64.test(unquoted)) return undefined;
  const bytes = Buffer.from(unquoted, 'base64');
  return protoAddress(bytes) ?? bytes.toString('latin1');
}
