/**
 * A GET over HTTPS to a local listener as a client of `host` sends it: `host` as SNI name and
 * Host field, any certificate accepted (the tests make their own), on a connection of its own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  /** The CN of the certificate the listener presented. */
  subject: string;
  headers: IncomingHttpHeaders;
}

export function httpsGet(port: number, host: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: host,
        headers: { host },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, subject, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
