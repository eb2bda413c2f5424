/**
 * Reconcile benchmark: 10,000 Ingresses, each with its Service and EndpointSlice, loaded into
 * the stand-in API server (in a child process, so its memory does not count), read by the
 * Kubernetes source through the real client, reconciled and swapped into a real proxy.
 *
 * Prints the time from start to the first table in force, the time from one object's change
 * (sent to the API server) to the new table in force (p50/p99 over 100 changes: Ingress
 * annotations and EndpointSlice addresses changed, Ingresses added and removed, Service
 * annotations changed, in turn), where that time goes, and the peak RSS; then, in process,
 * 1,000 more changes of those kinds with the heap measured before and after. Goals: under 5 s to ready, under 50 ms p99 per
 * change, under 300 MiB RSS; and the heap flat over the 1,000 changes (within 5 MiB).
 *
 *   npm run bench:reconcile            (or: node --expose-gc .build/test/bench/reconcile.js [count])
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import {
  CONTROLLER_NAME,
  Controller,
  KubeSource,
  ReconcileState,
  reconcile,
  type ReconcileOptions,
  type ReconcileResult,
} from '@tether/controller';
import type { KubeObject } from '@tether/dialects';
import { createLogger, createProxy, createRouteTable, type RouteTable } from '@tether/dataplane';
import { startApiServer, type JsonObject } from '@tether/testkit';

const COUNT = Number(process.argv[2] ?? 10_000);
const CHANGES = 100;
/** Changes of the in-process soak that checks nothing is kept per change. */
const SOAK_CHANGES = 1000;
const NAMESPACES = 50;

const nsOf = (i: number) => `ns-${i % NAMESPACES}`;
const hostOf = (i: number) => `h${i}.example`;

/** The kinds of change measured, in turn. */
const CHANGE_KINDS = [
  'Ingress annotation',
  'EndpointSlice address',
  'Ingress added',
  'Ingress removed',
  'Service annotation',
] as const;

function rule(i: number): JsonObject {
  return {
    host: hostOf(i),
    http: {
      paths: [
        {
          path: '/',
          pathType: 'Prefix',
          backend: { service: { name: `svc-${i}`, port: { number: 80 } } },
        },
      ],
    },
  };
}

function ingress(i: number, cookieName = `sid-${i}`): JsonObject {
  const variants: Record<string, string>[] = [
    {
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
      'nginx.ingress.kubernetes.io/session-cookie-name': cookieName,
      'nginx.ingress.kubernetes.io/session-cookie-max-age': '3600',
    },
    {
      'oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config': `{"cookieName":"X-Oracle-OCI-${i}","maxAgeInSeconds":600,"isHttpOnly":true}`,
    },
    {
      'kubernetes.io/elb.session-affinity-mode': 'HTTP_COOKIE',
      'kubernetes.io/elb.session-affinity-option': '{"persistence_timeout":"30"}',
    },
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: `web-${i}`, namespace: nsOf(i), annotations: variants[i % 3] ?? {} },
    spec: { ingressClassName: 'tether', rules: [rule(i)] },
  };
}

function service(i: number): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: nsOf(i),
      annotations: i % 3 === 1 ? { 'kubernetes.io/elb.session-affinity-mode': 'SOURCE_IP' } : {},
    },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: `a${i}` } },
  };
}

function endpointAddress(i: number, salt: number): string {
  return `10.${(salt % 200) + 1}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
}

function slice(i: number): JsonObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-abcde`,
      namespace: nsOf(i),
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [0, 1].map((salt) => ({
      addresses: [endpointAddress(i, salt)],
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
}

// ── the API server, in its own process ───────────────────────────────────────────────────

interface Loaded {
  kubeconfig: string;
  url: string;
  loadMs: number;
}

async function apiServerChild(): Promise<void> {
  const server = await startApiServer({ historyLimit: 5000 });
  const started = Date.now();
  server.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'tether' },
    spec: { controller: CONTROLLER_NAME },
  });
  for (let i = 0; i < COUNT; i++) {
    server.apply(service(i));
    server.apply(slice(i));
    server.apply(ingress(i));
  }
  const loaded: Loaded = {
    kubeconfig: server.writeKubeconfig(),
    url: server.url,
    loadMs: Date.now() - started,
  };
  process.send?.(loaded);
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

function startChild(): Promise<{ child: ChildProcess; loaded: Loaded }> {
  const child = fork(__filename, [String(COUNT), '--apiserver'], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (loaded) => resolve({ child, loaded: loaded as Loaded }));
    child.once('exit', (code) => reject(new Error(`the API server process exited (${code})`)));
  });
}

/** A write to the API server: a merge patch, a create or a delete. */
function send(
  url: string,
  method: 'PATCH' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<void> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method,
      headers: payload
        ? {
            'content-type':
              method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
            'content-length': payload.length,
          }
        : {},
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () =>
        (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
          ? resolve()
          : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// ── the controller, here ─────────────────────────────────────────────────────────────────

/**
 * The backend set serving `host`. Runs in the process being measured on every swap, so it
 * walks the table with indexes: it must not allocate (or cost) more than a lookup.
 */
function setFor(table: RouteTable, host: string) {
  for (let l = 0; l < table.listeners.length; l++) {
    const hosts = table.listeners[l]!.hosts;
    for (let h = 0; h < hosts.length; h++)
      if (hosts[h]!.host === host) return hosts[h]!.paths[0]?.backendSet;
  }
  return undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/**
 * The kernel's record of this process's largest RSS (Linux): exact, where the sampler below
 * cannot run while a long reconcile holds the event loop. Undefined elsewhere.
 */
function highWaterRss(): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { child, loaded } = await startChild();
  console.log(
    `stand-in API server (own process): ${COUNT} Ingresses, Services and EndpointSlices loaded in ${loaded.loadMs} ms`,
  );
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

  const proxy = createProxy({
    cookieKey: Buffer.alloc(32, 7),
    http: false,
    admin: false,
    logger: createLogger('silent'),
    defaultMetrics: false,
  });
  const swaps: { at: number; ms: number }[] = [];
  let waiter: ((table: RouteTable, at: number) => void) | undefined;
  const sink = {
    swap(table: RouteTable): void {
      const started = performance.now();
      proxy.swap(table);
      const at = performance.now();
      swaps.push({ at, ms: at - started });
      waiter?.(table, at);
    },
  };
  const source = new KubeSource({ kubeconfig: loaded.kubeconfig });
  const controller = new Controller({
    source,
    sink,
    serving: { ingressClass: 'tether', controllerName: CONTROLLER_NAME, serveAll: false },
  });

  const started = performance.now();
  await controller.start();
  const readyMs = performance.now() - started;
  collect();
  const startedMemory = process.memoryUsage();
  const sets = controller.latest?.table.listeners.reduce(
    (n, l) => n + l.hosts.reduce((m, h) => m + h.paths.length, 0),
    0,
  );
  console.log(
    `first table in force after ${readyMs.toFixed(0)} ms (${sets} backend sets; first reconcile ${controller.stats.lastReconcileMs.toFixed(0)} ms, of which swap ${swaps[0]?.ms.toFixed(0)} ms)`,
  );

  const latencies: { kind: string; ms: number; reconcileMs: number; swapMs: number }[] = [];
  for (let n = 0; n < CHANGES; n++) {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const change = CHANGE_KINDS[n % CHANGE_KINDS.length]!;
    // Ingresses with index % 3 === 0 use ingress-nginx annotations: their cookie name changes.
    const i = 3 * Math.floor(Math.random() * Math.floor(COUNT / 3));
    // Added Ingresses are named in order, as a deployment tool would create them, and the
    // one added last is the one removed.
    const added = `added-${String(Math.floor(n / CHANGE_KINDS.length)).padStart(4, '0')}`;
    const cookie = `c-${n}`;
    const address = endpointAddress(i, n + 10);
    const applied = new Promise<{ at: number }>((resolve) => {
      waiter = (table, at) => {
        // A Service annotation changes no setting: the new table is the sign it was applied.
        if (change === 'Service annotation') return resolve({ at });
        const set = setFor(
          table,
          change === 'Ingress added' || change === 'Ingress removed'
            ? `${added}.example`
            : hostOf(i),
        );
        const done =
          change === 'Ingress annotation'
            ? set?.policy.cookie?.name === cookie
            : change === 'EndpointSlice address'
              ? set?.backends[0]?.endpoints.some((e) => e.address === address)
              : change === 'Ingress added'
                ? set !== undefined
                : set === undefined;
        if (done) resolve({ at });
      };
    });
    const sent = performance.now();
    if (change === 'Ingress annotation')
      await send(
        loaded.url,
        'PATCH',
        `/apis/networking.k8s.io/v1/namespaces/${nsOf(i)}/ingresses/web-${i}`,
        {
          metadata: { annotations: { 'nginx.ingress.kubernetes.io/session-cookie-name': cookie } },
        },
      );
    else if (change === 'EndpointSlice address')
      await send(
        loaded.url,
        'PATCH',
        `/apis/discovery.k8s.io/v1/namespaces/${nsOf(i)}/endpointslices/svc-${i}-abcde`,
        {
          endpoints: [
            { addresses: [address], conditions: { ready: true, serving: true } },
            { addresses: [endpointAddress(i, 1)], conditions: { ready: true, serving: true } },
          ],
        },
      );
    else if (change === 'Ingress added') {
      const object = ingress(0);
      await send(loaded.url, 'POST', `/apis/networking.k8s.io/v1/namespaces/${nsOf(0)}/ingresses`, {
        ...object,
        metadata: { ...(object.metadata as JsonObject), name: added },
        spec: { ...(object.spec as JsonObject), rules: [{ ...rule(0), host: `${added}.example` }] },
      });
    } else if (change === 'Service annotation')
      // The Service behind an Ingress whose dialect (Huawei) reads its Service.
      await send(loaded.url, 'PATCH', `/api/v1/namespaces/${nsOf(i + 2)}/services/svc-${i + 2}`, {
        metadata: { annotations: { 'example.com/revision': String(n) } },
      });
    else
      await send(
        loaded.url,
        'DELETE',
        `/apis/networking.k8s.io/v1/namespaces/${nsOf(0)}/ingresses/${added}`,
      );
    const { at } = await applied;
    waiter = undefined;
    latencies.push({
      kind: change,
      ms: at - sent,
      reconcileMs: controller.stats.lastReconcileMs,
      swapMs: swaps.at(-1)?.ms ?? 0,
    });
  }
  clearInterval(sampler);
  collect();
  const settledRss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, settledRss, highWaterRss() ?? 0);

  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`;
  };
  const all = latencies.map((l) => l.ms);
  const of = (kind: string) => latencies.filter((l) => l.kind === kind).map((l) => l.ms);
  console.log(`change (PATCH sent) → new table in force, ${latencies.length} changes:`);
  console.log(`  all                        ${stats(all)}`);
  for (const kind of CHANGE_KINDS) console.log(`  ${kind.padEnd(27)}${stats(of(kind))}`);
  console.log(`  reconcile + swap           ${stats(latencies.map((l) => l.reconcileMs))}`);
  console.log(`  of which the proxy's swap  ${stats(latencies.map((l) => l.swapMs))}`);
  console.log(
    `parse cache: ${controller.stats.parseCacheHits} hits, ${controller.stats.parseCacheMisses} misses; ${controller.stats.updatedInPlace} of ${controller.stats.reconciles} reconciles updated the previous result in place`,
  );
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  const memory = process.memoryUsage();
  console.log(
    `RSS: peak ${mib(peakRss)} MiB; once started ${mib(startedMemory.rss)} MiB (heap ${mib(startedMemory.heapUsed)} MiB); after the changes ${mib(settledRss)} MiB (heap ${mib(memory.heapUsed)} MiB)`,
  );
  await controller.stop();
  await proxy.stop();
  child.disconnect();
  const growth = breakdown();

  const p99 = percentile(
    [...all].sort((a, b) => a - b),
    99,
  );
  const goals = [
    [readyMs < 5000, 'under 5 s to ready'],
    [p99 < 50, 'under 50 ms p99 per change'],
    [peakRss < 300 * 1024 * 1024, 'under 300 MiB RSS'],
    [growth < 5 * 1024 * 1024, `heap flat over ${SOAK_CHANGES} more changes (within 5 MiB)`],
  ] as const;
  for (const [ok, goal] of goals) console.log(`${ok ? 'goal met' : 'GOAL MISSED'}: ${goal}`);
  process.exitCode = goals.every(([ok]) => ok) ? 0 : 1;
}

/** Milliseconds of wall and CPU time (CPU includes the garbage collector's helper threads). */
function timed<T>(work: () => T): { value: T; wall: number; cpu: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = work();
  const used = process.cpuUsage(cpu);
  return { value, wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
}

/**
 * Where the time of one change goes, without the API server and the watch: the same objects
 * in process, one Ingress changed at a time, reconcile and the proxy's swap timed apart (the
 * swap split into createRouteTable — validation, copy and freeze — and the compile).
 */
function breakdown(): number {
  const proxy = createProxy({
    cookieKey: Buffer.alloc(32, 7),
    http: false,
    admin: false,
    logger: createLogger('silent'),
    defaultMetrics: false,
  });
  const objects: KubeObject[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'tether', resourceVersion: '1' },
      spec: { controller: CONTROLLER_NAME },
    },
  ];
  let version = 1;
  const stored = (o: JsonObject): KubeObject => {
    const object = o as unknown as KubeObject;
    object.metadata.resourceVersion = String(++version);
    return object;
  };
  for (let i = 0; i < COUNT; i++)
    objects.push(stored(service(i)), stored(slice(i)), stored(ingress(i)));
  const state = new ReconcileState();
  const options: ReconcileOptions = {
    ingressClass: 'tether',
    controllerName: CONTROLLER_NAME,
    serveAll: false,
    state,
  };
  const heapOf = () => {
    collect();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = heapOf();
  let result: ReconcileResult = reconcile({ generation: 1, objects }, undefined, options);
  const heapReconciled = heapOf();
  proxy.swap(result.table);
  const heapSwapped = heapOf();
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  // The controller's share (parse cache, what reconcile keeps to update in place, the result)
  // apart from the objects themselves and the proxy's compiled copy of the table.
  console.log(
    `in process, heap added by the first reconcile (result and caches) ${mib(heapReconciled - heapBefore)} MiB, then by the proxy's swap ${mib(heapSwapped - heapReconciled)} MiB`,
  );
  const rows: { reconcile: number; validate: number; compile: number }[] = [];
  const cpu: { reconcile: number; validate: number; compile: number }[] = [];
  for (let n = 0; n < CHANGES; n++) {
    const i = 3 * ((n * 1237) % Math.floor(COUNT / 3));
    const at = objects.findIndex((o) => o.kind === 'Ingress' && o.metadata.name === `web-${i}`);
    objects[at] = stored(ingress(i, `b-${n}`));
    const previous = result;
    const r = timed(() =>
      reconcile({ generation: n + 2, objects: [...objects] }, previous, options),
    );
    result = r.value;
    const v = timed(() => createRouteTable(result.table, proxy.table));
    const c = timed(() => proxy.swap(v.value));
    rows.push({ reconcile: r.wall, validate: v.wall, compile: c.wall });
    cpu.push({ reconcile: r.cpu, validate: v.cpu, compile: c.cpu });
  }
  const line = (label: string, key: 'reconcile' | 'validate' | 'compile') => {
    const wall = rows.map((x) => x[key]).sort((a, b) => a - b);
    const used = cpu.map((x) => x[key]).sort((a, b) => a - b);
    return `  ${label.padEnd(34)} wall p50 ${percentile(wall, 50).toFixed(1)} ms, p99 ${percentile(wall, 99).toFixed(1)} ms; CPU p50 ${percentile(used, 50).toFixed(1)} ms`;
  };
  console.log(`in process, one Ingress changed at a time (${CHANGES} changes, ${COUNT} sets):`);
  console.log(line('reconcile', 'reconcile'));
  console.log(line('proxy: createRouteTable', 'validate'));
  console.log(line('proxy: compile and install', 'compile'));
  const growth = soak(objects, result, { ...options, state }, proxy, stored, heapOf);
  void proxy.stop();
  return growth;
}

/**
 * A soak: many more changes of every kind, in process, with the heap measured after a full
 * collection before and after. Anything kept per change (a leak of even 10 KB per change)
 * shows as growth. Returns the growth in bytes.
 */
function soak(
  objects: KubeObject[],
  first: ReconcileResult,
  options: ReconcileOptions & { state: ReconcileState },
  proxy: ReturnType<typeof createProxy>,
  stored: (o: JsonObject) => KubeObject,
  heapOf: () => number,
): number {
  const cache = options.state.cache;
  const before = heapOf();
  const patchedBefore = cache.patched;
  const added: KubeObject[] = [];
  const find = (kind: string, name: string) =>
    objects.findIndex((o) => o.kind === kind && o.metadata.name === name);
  let result = first;
  for (let n = 0; n < SOAK_CHANGES; n++) {
    const i = 3 * ((n * 7919) % Math.floor(COUNT / 3));
    const change = CHANGE_KINDS[n % CHANGE_KINDS.length];
    if (change === 'Ingress annotation')
      objects[find('Ingress', `web-${i}`)] = stored(ingress(i, `s-${n}`));
    else if (change === 'EndpointSlice address') {
      const moved = slice(i);
      moved.endpoints = [{ addresses: [endpointAddress(i, n + 3)], conditions: { ready: true } }];
      objects[find('EndpointSlice', `svc-${i}-abcde`)] = stored(moved);
    } else if (change === 'Ingress added') {
      // Newer than everything, as the API server would date it.
      const creationTimestamp = new Date(Date.UTC(2099, 0, 1) + n * 1000).toISOString();
      const o = ingress(0);
      const object = stored({
        ...o,
        metadata: { ...(o.metadata as JsonObject), name: `soak-${n}`, creationTimestamp },
        spec: { ...(o.spec as JsonObject), rules: [{ ...rule(0), host: `soak-${n}.example` }] },
      });
      objects.push(object);
      added.push(object);
    } else if (change === 'Ingress removed') {
      const gone = added.shift();
      if (gone) objects.splice(objects.indexOf(gone), 1);
    } else {
      const o = service(i + 2);
      const metadata = o.metadata as JsonObject;
      objects[find('Service', `svc-${i + 2}`)] = stored({
        ...o,
        metadata: {
          ...metadata,
          annotations: {
            ...(metadata.annotations as JsonObject),
            'example.com/revision': String(n),
          },
        },
      });
    }
    result = reconcile({ generation: 1000 + n, objects: [...objects] }, result, options);
    proxy.swap(result.table);
  }
  const after = heapOf();
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    `in process, ${SOAK_CHANGES} more changes of the ${CHANGE_KINDS.length} kinds (${cache.patched - patchedBefore} in place): heap ${mib(before)} → ${mib(after)} MiB after a full collection`,
  );
  return after - before;
}

if (process.argv.includes('--apiserver')) void apiServerChild();
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
