/**
 * Connections to one upstream origin: undici `Client`s (one request at a time each) kept on
 * an idle stack, so that taking a free connection is O(1). undici's `Pool` looks for a free
 * client by scanning all of them, twice per request, which shows at high concurrency.
 * Requests wait in a queue when the connection limit is reached.
 */
import { Client, type Dispatcher } from 'undici';

export interface OriginPoolOptions {
  connections: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  connectTimeout: number;
}

interface Waiting {
  opts: Dispatcher.DispatchOptions;
  handler: Dispatcher.DispatchHandler;
}

export class OriginPool {
  readonly #idle: Client[] = [];
  readonly #all = new Set<Client>();
  readonly #queue: Waiting[] = [];
  #closed = false;

  constructor(
    readonly origin: string,
    readonly options: OriginPoolOptions,
  ) {}

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.#closed) {
      handler.onError?.(
        Object.assign(new Error('upstream pool closed'), { code: 'UND_ERR_CLOSED' }),
      );
      return;
    }
    const client = this.#idle.pop() ?? this.#create();
    if (!client) {
      this.#queue.push({ opts, handler });
      return;
    }
    this.#send(client, opts, handler);
  }

  #send(
    client: Client,
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): void {
    // false: the client is busy and will emit 'drain' when free; true: it can take more now
    // (for example when the request was refused before it started).
    if (client.dispatch(opts, handler)) this.#idle.push(client);
  }

  #create(): Client | undefined {
    if (this.#all.size >= this.options.connections) return undefined;
    const client = new Client(this.origin, {
      pipelining: 1,
      headersTimeout: this.options.headersTimeout,
      bodyTimeout: this.options.bodyTimeout,
      keepAliveTimeout: this.options.keepAliveTimeout,
      connect: { timeout: this.options.connectTimeout },
    });
    client.on('drain', () => this.#free(client));
    this.#all.add(client);
    return client;
  }

  /** A client finished its request: give it the next waiting request, or put it back. */
  #free(client: Client): void {
    if (this.#closed) return;
    const next = this.#queue.shift();
    if (next) this.#send(client, next.opts, next.handler);
    else this.#idle.push(client);
  }

  /** Closes every connection once its request is done; waiting requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#queue.splice(0))
      w.handler.onError?.(
        Object.assign(new Error('upstream pool closed'), { code: 'UND_ERR_CLOSED' }),
      );
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((c) => c.close().catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    for (const w of this.#queue.splice(0))
      w.handler.onError?.(
        Object.assign(new Error('upstream pool closed'), { code: 'UND_ERR_CLOSED' }),
      );
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((c) => c.destroy().catch(() => undefined)));
  }
}
