/**
 * A proxy worker: a process forked by `ProxyFleet` that runs the proxy on the listeners it
 * shares with its siblings (Node's cluster hands each new connection to one of them), with the
 * cookie key and the route tables the primary sends. It has no admin or API listener: the
 * primary answers those for all workers together.
 */
import { AggregatorRegistry } from 'prom-client';
import { isToWorker, type FromWorker } from './messages';
import type { Proxy } from '../proxy/proxy';

function send(message: FromWorker): void {
  process.send?.(message);
}

/**
 * Waits for the primary's start message, makes the proxy with its cookie key, opens its
 * listeners, and from then on swaps in every table the primary sends. Resolves with the proxy
 * once it listens. The worker stops when told to or when the primary goes away.
 */
export function serveAsWorker(make: (cookieKey: Buffer) => Proxy): Promise<Proxy> {
  return new Promise((resolve, reject) => {
    let proxy: Proxy | undefined;
    const stop = (): void => {
      process.off('message', onMessage);
      void (proxy ? proxy.stop() : Promise.resolve()).then(() => process.disconnect?.());
    };
    const onMessage = (message: unknown): void => {
      if (!isToWorker(message)) return;
      if (message.type === 'tether:start' && !proxy) {
        const p = make(message.cookieKey);
        proxy = p;
        // The primary's /metrics asks every worker for these and adds them up; making an
        // aggregator is what makes prom-client answer those requests in a worker.
        AggregatorRegistry.setRegistries([p.metrics.registry]);
        new AggregatorRegistry();
        p.start().then((addresses) => {
          send({ type: 'tether:listening', addresses });
          resolve(p);
        }, reject);
      } else if (message.type === 'tether:table' && proxy) {
        try {
          const p = proxy;
          p.swap(message.table);
          send({ type: 'tether:swapped', version: message.table.version });
          void p.serviceListenersSettled().then(() => reportServicePorts(p));
        } catch (err) {
          send({
            type: 'tether:refused',
            version: message.table.version,
            message: err instanceof Error ? err.message : String(err),
          });
        }
      } else if (message.type === 'tether:stop') stop();
    };
    process.on('message', onMessage);
    process.once('disconnect', stop);
  });
}

/** Tells the primary which Service ports of the table in force could not be opened. */
export function reportServicePorts(proxy: Proxy): void {
  send({ type: 'tether:ports', problems: [...proxy.servicePortProblems] });
}
