/**
 * @tether/dataplane: the reverse proxy that enforces session persistence.
 *
 *   const proxy = createProxy({ cookieKey, http: { port: 8080 }, admin: { port: 9090 } });
 *   await proxy.start();
 *   proxy.swap(createRouteTable({ version: '1', listeners: [...] }));
 *   ...
 *   await proxy.stop();
 */
export { createRouteTable, emptyRouteTable } from './table/create';
export { checkRouteTable } from './table/check';
export {
  acceptsNewSessions,
  servesExistingSessions,
  RouteTableError,
  type AcceptedRouteTable,
  type RouteTable,
  type ListenerRoutes,
  type HostRoutes,
  type PathRoute,
  type PathKind,
  type BackendSet,
  type WeightedBackend,
  type CanaryRules,
  type Endpoint,
  type ListenerProtocolName,
  type TlsCertificate,
} from './table/types';
export { createProxy, stopOnSignals, Proxy } from './proxy/proxy';
export {
  DEFAULT_LIMITS,
  type ProxyOptions,
  type ProxyLimits,
  type ProxyAddresses,
  type ListenOptions,
  type HttpsListenOptions,
} from './proxy/options';
export { loadCookieKey, COOKIE_KEY_ENV } from './key';
export { createLogger, REDACTED_PATHS, type Logger } from './logger';
export { rendezvous, rendezvousScore, hashString, type RendezvousNode } from './hash';
export { TokenCodec, type SessionToken } from './token';
