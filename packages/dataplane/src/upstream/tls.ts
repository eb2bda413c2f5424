/**
 * TLS to the endpoints of a backend set (OpenShift `reencrypt`, ingress-nginx `backend-protocol:
 * HTTPS` or `GRPCS`): the options every connection of the set's pools is opened with. Verification is as
 * the dialect says: off, or against the set's CA (inline, or a Secret's `ca.crt` that the
 * table carries) under the dialect's server name, which is sent as SNI only when it says so.
 */
import { createHash } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { backendSpeaksHttp2, backendSpeaksTls, type RouteSettings } from '@tether/model';

export interface UpstreamTls {
  /** Tells pools with different TLS options to one origin apart. */
  readonly key: string;
  readonly options: ConnectionOptions;
  /** What the certificate is checked against, for logs: the Secret or field. */
  readonly trust: string;
}

const noIdentityCheck = (): undefined => undefined;

/**
 * The TLS of a set's route settings; undefined when the set speaks plain HTTP. `cas` holds the
 * PEM of each CA Secret the table carries, by `namespace/name`.
 */
export function upstreamTlsOf(
  route: RouteSettings,
  cas: ReadonlyMap<string, string>,
  serviceCa?: string,
): UpstreamTls | undefined {
  if (!backendSpeaksTls(route.backendProtocol)) return undefined;
  const http2 = backendSpeaksHttp2(route.backendProtocol);
  const t = route.backendTls ?? {};
  // The service CA bundle stands in where the set asks for it and the proxy has one.
  const byServiceCa =
    t.serviceCa === true && t.caCertificate === undefined && serviceCa !== undefined;
  const verify = t.verify === true || byServiceCa;
  const ca = byServiceCa
    ? serviceCa
    : (t.caCertificate ??
      (t.caSecret !== undefined
        ? cas.get(t.caSecret)
        : t.caConfigMap !== undefined
          ? cas.get(`ConfigMap:${t.caConfigMap}`)
          : undefined));
  // Without the bundle a service-CA set checks nothing, so no name either.
  const name = t.serviceCa === true && !byServiceCa ? undefined : t.serverName;
  const options: ConnectionOptions = {
    rejectUnauthorized: verify,
    ALPNProtocols: [http2 ? 'h2' : 'http/1.1'],
    // The certificate is checked under the dialect's name, never the endpoint's address; with
    // no name only its chain is (HAProxy's `verify required` without `verifyhost` or SNI).
    checkServerIdentity:
      verify && name !== undefined
        ? (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert)
        : noIdentityCheck,
  };
  if (verify && ca !== undefined) options.ca = ca;
  // A CA named but not loaded trusts nothing, rather than every well-known CA: an empty list
  // keeps Node from adding its root store.
  else if (verify && (t.caSecret !== undefined || t.caConfigMap !== undefined) && !byServiceCa)
    options.ca = [];
  if (t.sni === true && name !== undefined) options.servername = name;
  const trust = !verify
    ? 'not verified'
    : byServiceCa
      ? `the service CA bundle, as ${name ?? 'any name'}`
      : t.caCertificate !== undefined
        ? 'the route CA certificate'
        : t.caSecret !== undefined
          ? `ca.crt of Secret ${t.caSecret}${ca === undefined ? ' (not loaded)' : ''}`
          : t.caConfigMap !== undefined
            ? `ca.crt of ConfigMap ${t.caConfigMap}${ca === undefined ? ' (not loaded)' : ''}`
            : 'the system CAs';
  const caHash = ca === undefined ? '' : createHash('sha256').update(ca).digest('hex').slice(0, 16);
  return {
    key: [
      http2 ? 'h2' : 'h1',
      verify ? 'verify' : 'noverify',
      name ?? '',
      t.sni === true ? 'sni' : '',
      caHash,
    ].join('|'),
    options,
    trust,
  };
}
