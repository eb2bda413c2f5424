/**
 * The proxy's logger: pino, with every place a cookie, credential or session header could
 * appear redacted. The proxy logs no request headers itself; the redaction guards whatever a
 * caller or a future change adds to a log line.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'cookie',
  'headers.cookie',
  'headers.authorization',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.cookie',
  '*.token',
  '*.sessionHeader',
];

/** A logger at `level` (default: env TETHER_LOG_LEVEL, else info), to stdout or `destination`. */
export function createLogger(
  level: string = process.env['TETHER_LOG_LEVEL'] ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name: 'tether-dataplane',
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
