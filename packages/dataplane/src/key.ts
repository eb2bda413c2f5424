/**
 * Where the cookie key comes from: a file (`--cookie-key-file`), or an environment variable.
 * Every replica of the proxy must be given the same key, or they will not honour each
 * other's session cookies.
 */
import { readFileSync } from 'node:fs';

export const COOKIE_KEY_ENV = 'TETHER_COOKIE_KEY';

/** Minimum key length in bytes. */
const MIN_KEY_BYTES = 16;

/**
 * Reads the key from `file` if given, else from `env[COOKIE_KEY_ENV]`; undefined when neither
 * is set (the proxy then makes a random key and warns). The file's bytes are used as they
 * are, minus a trailing newline; the variable's text is used as UTF-8. Throws when the key is
 * shorter than 16 bytes.
 */
export function loadCookieKey(
  file?: string,
  env: NodeJS.ProcessEnv = process.env,
): Buffer | undefined {
  let key: Buffer | undefined;
  if (file) {
    key = readFileSync(file);
    let end = key.length;
    while (end > 0 && (key[end - 1] === 0x0a || key[end - 1] === 0x0d)) end--;
    key = key.subarray(0, end);
  } else {
    const text = env[COOKIE_KEY_ENV];
    if (text) key = Buffer.from(text, 'utf8');
  }
  if (key !== undefined && key.length < MIN_KEY_BYTES) {
    throw new Error(`the cookie key must be at least ${MIN_KEY_BYTES} bytes`);
  }
  return key;
}
