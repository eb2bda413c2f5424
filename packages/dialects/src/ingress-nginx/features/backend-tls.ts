/**
 * TLS to the endpoints: `backend-protocol` and the `proxy-ssl-*` keys. From kubernetes/
 * ingress-nginx: `internal/ingress/annotations/backendprotocol` (trimmed, upper-cased, one of
 * AUTO_HTTP, HTTP, HTTPS, AJP, GRPC, GRPCS, FCGI, else HTTP) and
 * `internal/ingress/annotations/proxyssl` (`Parse`: without `proxy-ssl-secret` every other
 * proxy-ssl key is ignored; `proxy-ssl-verify` and `proxy-ssl-server-name` are `on` or `off`,
 * default `off`). nginx checks the certificate under `proxy_ssl_name`, which is `$proxy_host`
 * (`upstream_balancer`) unless `proxy-ssl-name` says otherwise, and sends it as SNI only with
 * `proxy-ssl-server-name: on`. GRPC and GRPCS are `grpc_pass grpc://` and `grpcs://`:
 * HTTP/2 to the endpoints, in clear text or over TLS.
 */
import { info, warning, type Diagnostic, type RouteSettings } from '@tether/model';
import type { FieldCollector } from '../../helpers';
import { sourceOf } from '../../kube';
import type { KubeObject } from '../../types';
import {
  BACKEND_PROTOCOLS,
  DEFAULT_PROXY_SSL_NAME,
  KEY,
  type BackendProtocolValue,
} from '../annotations';
import { AnnotationReader, DIALECT, oneOf, type Interpreter } from '../reader';
import type { Expression } from '../expression';
import type { NginxSettings } from '../settings-shape';

const onOff: Interpreter<boolean> = ({ normalized }) => ({ value: normalized === 'on' });

const protocol: Interpreter<BackendProtocolValue> = (text, key) =>
  oneOf(BACKEND_PROTOCOLS, false)({ ...text, normalized: text.normalized.trim() }, key);

const text: Interpreter<string> = ({ normalized }) => ({ value: normalized.trim() });

/** Reads the backend protocol and, with a secret, the proxy-ssl keys. */
export function readBackendTls(reader: AnnotationReader, settings: NginxSettings): void {
  settings.backendProtocol = reader.read(KEY.backendProtocol, protocol);
  settings.proxySslSecret = reader.read(KEY.proxySslSecret, text);
  // The controller reads the other keys only once it has the secret.
  if (settings.proxySslSecret === undefined) return;
  settings.proxySslVerify = reader.read(KEY.proxySslVerify, onOff);
  settings.proxySslName = reader.read(KEY.proxySslName, text);
  settings.proxySslServerName = reader.read(KEY.proxySslServerName, onOff);
}

/** The route fields of the protocol spoken to the endpoints, and of its TLS. */
export function backendTlsFields(c: FieldCollector, s: NginxSettings): void {
  const p = s.backendProtocol;
  if (p === 'GRPC') c.set('route.backendProtocol', 'GRPC', KEY.backendProtocol);
  if (p !== 'HTTPS' && p !== 'GRPCS') return;
  c.set('route.backendProtocol', p, KEY.backendProtocol);
  if (s.proxySslSecret === undefined) {
    c.setDefault('route.backendTls.verify', false, KEY.proxySslVerify);
    c.setDefault('route.backendTls.sni', false, KEY.proxySslServerName);
    return;
  }
  c.set('route.backendTls.caSecret', s.proxySslSecret, KEY.proxySslSecret);
  if (s.proxySslVerify !== undefined)
    c.set('route.backendTls.verify', s.proxySslVerify, KEY.proxySslVerify);
  else c.setDefault('route.backendTls.verify', false, KEY.proxySslVerify);
  if (s.proxySslName !== undefined)
    c.set('route.backendTls.serverName', s.proxySslName, KEY.proxySslName);
  else c.setDefault('route.backendTls.serverName', DEFAULT_PROXY_SSL_NAME, KEY.proxySslName);
  if (s.proxySslServerName !== undefined)
    c.set('route.backendTls.sni', s.proxySslServerName, KEY.proxySslServerName);
  else c.setDefault('route.backendTls.sni', false, KEY.proxySslServerName);
}

/** Writes the protocol spoken to the endpoints and its TLS: what ingress-nginx can say of it. */
export function expressBackendTls(x: Expression, route: RouteSettings): void {
  const p = route.backendProtocol;
  if (p === 'GRPC') x.write(KEY.backendProtocol, 'GRPC', 'route.backendProtocol');
  if (p !== 'HTTPS' && p !== 'GRPCS') return;
  x.write(KEY.backendProtocol, p, 'route.backendProtocol');
  const t = route.backendTls ?? {};
  if (t.caSecret !== undefined) {
    x.write(KEY.proxySslSecret, t.caSecret, 'route.backendTls.caSecret');
    if (t.verify === true) x.write(KEY.proxySslVerify, 'on', 'route.backendTls.verify');
    if (t.serverName !== undefined)
      x.write(KEY.proxySslName, t.serverName, 'route.backendTls.serverName');
    if (t.sni === true) x.write(KEY.proxySslServerName, 'on', 'route.backendTls.sni');
    return;
  }
  if (t.verify === true)
    x.unsupported(
      'ingress-nginx verifies endpoints only against the ca.crt of a Secret (proxy-ssl-secret); store the CA certificate in one and name it',
      'route.backendTls.verify',
      'route.backendTls.caCertificate',
      'route.backendTls.serverName',
      'route.backendTls.sni',
    );
}

/** What the annotations say that Tether does not do, and keys without their secret. */
export function backendTlsNotes(object: KubeObject, s: NginxSettings): Diagnostic[] {
  const out: Diagnostic[] = [];
  const p = s.backendProtocol;
  if (p === 'AJP' || p === 'FCGI')
    out.push(
      warning(
        'NotReproduced',
        `${KEY.backendProtocol}: ${p} is not spoken by Tether yet; it sends HTTP/1.1 to these endpoints`,
        sourceOf(DIALECT, object, KEY.backendProtocol),
      ),
    );
  if (s.proxySslSecret === undefined)
    for (const key of [KEY.proxySslVerify, KEY.proxySslName, KEY.proxySslServerName])
      if (s.written.has(key))
        out.push(
          info(
            'IneffectiveSetting',
            `${key} has no effect without ${KEY.proxySslSecret}: ingress-nginx reads the proxy-ssl keys only with the secret`,
            sourceOf(DIALECT, object, key),
          ),
        );
  if (s.proxySslSecret !== undefined && p !== 'HTTPS' && p !== 'GRPCS')
    out.push(
      info(
        'IneffectiveSetting',
        `${KEY.proxySslSecret} has no effect while ${KEY.backendProtocol} is neither HTTPS nor GRPCS: the endpoints are spoken to in plain text`,
        sourceOf(DIALECT, object, KEY.proxySslSecret),
      ),
    );
  return out;
}
