/**
 * @tether/dataplane: the reverse proxy that enforces session persistence.
 *
 *   const proxy = createProxy({ cookieKey, http: { port: 8080 }, admin: { port: 9090 } });
 *   await proxy.start();
 *   proxy.swap(createRouteTable({ version: '1', listeners: [...] }));
 *   ...
 *   await proxy.stop();
 */
export { createRouteTable } from './table/create';
export {
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
  type TlsCertificate,
  type PassthroughRoute,
  type StreamRoute,
} from './table/types';
export { createProxy, stopOnSignals, Proxy } from './proxy/proxy';
export {
  DEFAULT_LIMITS,
  type ProxyOptions,
  type ProxyLimits,
  type ProxyAddresses,
} from './proxy/options';
export { loadCookieKey } from './key';
export { createLogger, type Logger } from './logger';
export { ProxyFleet, type FleetOptions } from './workers/fleet';
export { serveAsWorker, reportServicePorts } from './workers/worker';
export { WORKER_ENV } from './workers/messages';
/** The proxy's HTTP/1.1 client to its endpoints, on its own (the HTTP/2 benchmark relays with it). */
export { UpstreamPool } from './upstream/pool';
export type { UpstreamHandler, UpstreamPoolOptions, UpstreamRequest } from './upstream/request';
