/**
 * What the primary process and its proxy workers say to each other over the cluster channel
 * (`serialization: 'advanced'`, so Buffers and Maps cross as they are).
 */
import type { AcceptedRouteTable } from '../table/types';
import type { ProxyAddresses } from '../proxy/options';

/** Environment variable that marks a process forked as a proxy worker. */
export const WORKER_ENV = 'TETHER_PROXY_WORKER';

export type ToWorker =
  | { type: 'tether:start'; cookieKey: Buffer }
  | { type: 'tether:table'; table: AcceptedRouteTable }
  | { type: 'tether:stop' };

export type FromWorker =
  | { type: 'tether:listening'; addresses: ProxyAddresses }
  | { type: 'tether:swapped'; version: string }
  | { type: 'tether:refused'; version: string; message: string }
  | { type: 'tether:ports'; problems: [port: string, why: string][] };

export function isFromWorker(m: unknown): m is FromWorker {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as { type?: unknown }).type === 'string' &&
    (m as { type: string }).type.startsWith('tether:')
  );
}

export function isToWorker(m: unknown): m is ToWorker {
  return isFromWorker(m);
}
