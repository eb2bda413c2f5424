/**
 * Echo backends: small HTTP servers on loopback whose every answer names the endpoint that
 * gave it. `tether up` serves the examples with them, and the proxy's tests run against them.
 *
 * Each response carries `X-Endpoint: <name>` and a JSON body
 * `{ endpoint, method, url, headers, bodyBytes }`. The request controls the answer with query
 * parameters (or the same names as `X-Echo-*` headers):
 *
 *   set-cookie=NAME=VALUE   adds `Set-Cookie: NAME=VALUE; Path=/` (repeatable)
 *   delete-cookie=NAME      adds a `Set-Cookie` that deletes NAME
 *   status=CODE             answers with that status
 *   delay=MS                waits before answering
 *   hang=1                  never answers (the connection stays open until close())
 *   bytes=N                 answers N bytes of `x` instead of JSON
 *   cache-control=VALUE     adds `Cache-Control: VALUE`
 *
 * Request bodies are read to the end and counted, never kept. `refuse()` closes the listener
 * so that connections are refused; `accept()` listens again on the same port. WebSocket
 * upgrades are accepted: the server sends `{ endpoint, cookie }` as its first message and
 * echoes every message prefixed with the endpoint name.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface EchoOptions {
  /** The name the backend answers with; default `echo-<port>`. */
  name?: string;
  host?: string;
  port?: number;
  /** Delay added to every answer, in ms (a slow backend). */
  delayMs?: number;
}

export interface EchoReply {
  endpoint: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

export interface EchoServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Requests received (including hanging ones), WebSocket handshakes excluded. */
  readonly requests: number;
  /** Total request-body bytes received. */
  readonly bodyBytes: number;
  /** WebSocket connections accepted. */
  readonly sockets: number;
  /** Stops listening and drops every connection: new connections are refused. */
  refuse(): Promise<void>;
  /** Listens again on the same port after `refuse()`. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

function param(req: IncomingMessage, url: URL, name: string): string[] {
  const fromQuery = url.searchParams.getAll(name);
  const header = req.headers[`x-echo-${name}`];
  const fromHeader = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return [...fromQuery, ...fromHeader];
}

class Echo implements EchoServer {
  requests = 0;
  bodyBytes = 0;
  sockets = 0;
  readonly #server: Server;
  readonly #ws: WebSocketServer;
  readonly #connections = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #port = 0;
  #name: string;
  readonly host: string;
  readonly #delayMs: number;

  constructor(options: EchoOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#name = options.name ?? '';
    this.#delayMs = options.delayMs ?? 0;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 60_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
    });
    this.#ws = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.#ws.handleUpgrade(req, socket, head, (ws) => {
        this.sockets++;
        ws.send(JSON.stringify({ endpoint: this.name, cookie: req.headers.cookie ?? null }));
        ws.on('message', (data: Buffer) => ws.send(`${this.name}:${data.toString()}`));
      });
    });
  }

  get name(): string {
    return this.#name;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.host}:${this.#port}`;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    const url = new URL(req.url ?? '/', 'http://echo.invalid');
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      this.bodyBytes += chunk.length;
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (param(req, url, 'hang').length > 0) return;
      const delay = Number(param(req, url, 'delay')[0] ?? 0) + this.#delayMs;
      const answer = (): void => this.#answer(req, res, url, bodyBytes);
      if (delay > 0) {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          answer();
        }, delay);
        this.#timers.add(t);
      } else answer();
    });
  }

  #answer(req: IncomingMessage, res: ServerResponse, url: URL, bodyBytes: number): void {
    if (res.destroyed) return;
    const cookies = param(req, url, 'set-cookie').map((c) => `${c}; Path=/`);
    for (const name of param(req, url, 'delete-cookie')) {
      cookies.push(`${name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
    }
    const status = Number(param(req, url, 'status')[0] ?? 200);
    const headers: Record<string, string | string[]> = { 'x-endpoint': this.name };
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    const cacheControl = param(req, url, 'cache-control')[0];
    if (cacheControl) headers['cache-control'] = cacheControl;
    const bytes = param(req, url, 'bytes')[0];
    let body: string;
    if (bytes !== undefined) {
      body = 'x'.repeat(Math.max(0, Math.min(Number(bytes) || 0, 64 * 1024 * 1024)));
      headers['content-type'] = 'text/plain';
    } else {
      const reply: EchoReply = {
        endpoint: this.name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyBytes,
      };
      body = JSON.stringify(reply);
      headers['content-type'] = 'application/json';
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(
      Number.isInteger(status) && status >= 200 && status < 600 ? status : 200,
      headers,
    );
    res.end(body);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.host, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        if (!this.#name) this.#name = `echo-${this.#port}`;
        resolve();
      });
    });
  }

  async refuse(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    for (const client of this.#ws.clients) client.terminate();
    await closed;
  }

  accept(): Promise<void> {
    return this.#server.listening ? Promise.resolve() : this.listen();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.refuse();
    await new Promise<void>((resolve) => this.#ws.close(() => resolve()));
  }
}

/** Starts an echo backend on loopback (an ephemeral port unless one is given). */
export async function startEcho(options: EchoOptions = {}): Promise<EchoServer> {
  const echo = new Echo(options);
  await echo.listen();
  return echo;
}

/** Starts `count` echo backends named `<prefix>1`, `<prefix>2`, … */
export async function startEchoes(count: number, prefix = 'e'): Promise<EchoServer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => startEcho({ name: `${prefix}${i + 1}` })),
  );
}
