/**
 * The OpenShift router's sticky cookie. The router's HAProxy template gives every server
 * `cookie <IdHash>` (`images/router/haproxy/conf/haproxy-config.template` in openshift/router),
 * and `insert indirect` sends that value as the cookie. The IdHash is md5_hex of the
 * endpoint's ID (`pkg/router/template/plugin.go`, `createRouterEndpoints`):
 * `pod:<pod>:<endpoints name>:<port name>:<ip>:<port>` for an address whose targetRef is a
 * Pod, else `ept:<endpoints name>:<port name>:<ip>:<port>`; the Endpoints object is named
 * after its Service.
 *
 * With the router's dynamic configuration manager (`ROUTER_HAPROXY_CONFIG_MANAGER`, off by
 * default) HAProxy computes `dynamic` cookies instead; those are not read here.
 */
import { createHash } from 'node:crypto';

/** The router's endpoint ID. */
export function routerEndpointId(
  service: string,
  portName: string,
  address: string,
  port: number,
  pod: string | undefined,
): string {
  return pod !== undefined
    ? `pod:${pod}:${service}:${portName}:${address}:${port}`
    : `ept:${service}:${portName}:${address}:${port}`;
}

/** The cookie value the router gives an endpoint. */
export function routerCookieValue(endpointId: string): string {
  return createHash('md5').update(endpointId).digest('hex');
}
