/**
 * TCP benchmark: a Service's TCP listener in Tether against HAProxy `mode tcp` with `balance
 * source`, in one run, one core each (core 1), with the backends and the load on core 0.
 *
 *   npm run bench:tcp [-- --seconds 5 --reps 3 --idle 9980]
 *
 * Measures, for each proxy: new connections per second (64 clients, each connecting, sending
 * `ping`, reading `pong` and closing, over and over), bulk throughput through one connection
 * (1 GiB from the client to a backend, then the close both ways), CPU time per connection and
 * per MiB from /proc, and Tether's RSS holding `--idle` idle connections (each holds two
 * descriptors in the proxy; this machine's hard limit of 20,000 descriptors caps it below
 * 10,000). Medians of `--reps` interleaved repetitions. Goals: at least 0.5× HAProxy's bulk
 * throughput, 0.33× its connection rate, RSS under 128 MiB with the idle connections.
 *
 * Runs its parts as child processes of itself (`--role …`). Needs haproxy and taskset
 * (installed from Debian by `npm run bench` when missing). The Tether process runs with the node
 * flags of the image (test/bench/node-flags); NODE_FLAGS replaces them (NODE_FLAGS= for none).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BACKENDS = [18281, 18282, 18283];
const HAPROXY_PORT = 18290;
const TETHER_PORT = 18294;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

// ---- roles -------------------------------------------------------------------------------

function backend(): void {
  for (const port of BACKENDS)
    createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.on('data', (d) => {
        if (d.length === 5 && d.toString() === 'ping\n') s.write('pong\n');
      });
      s.on('end', () => s.end());
    }).listen(port, '127.0.0.1');
  process.stdout.write('ready\n');
}

async function tether(): Promise<void> {
  const { createProxy, createLogger } = await import('@tether/dataplane');
  const proxy = createProxy({
    http: false,
    admin: false,
    defaultMetrics: false,
    logger: createLogger('silent'),
    cookieKey: Buffer.alloc(32, 1),
    services: { host: '127.0.0.1' },
    table: {
      version: 'bench',
      listeners: [],
      streams: [
        {
          protocol: 'TCP',
          port: TETHER_PORT,
          backendSet: {
            id: 'Service/bench/tcp port',
            policy: {
              mode: 'sourceIp',
              sourceIp: { timeoutSeconds: 10800 },
              rebalance: 'persistent',
              onFailure: 'rebalance',
            },
            loadBalancing: { algorithm: 'roundRobin' },
            route: {},
            backends: [
              {
                ref: { namespace: 'bench', service: 'tcp', port: 1 },
                endpoints: BACKENDS.map((port) => ({ address: '127.0.0.1', port, ready: true })),
              },
            ],
          },
        },
      ],
    },
  });
  await proxy.start();
  process.stdout.write('ready\n');
}

/** 64 clients connecting, exchanging ping/pong and closing, for `seconds`; prints the count. */
function rate(port: number, seconds: number): void {
  let done = 0;
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const loop = (): void => {
    if (Date.now() >= until) return;
    const s = connect({ port, host: '127.0.0.1' }, () => s.write('ping\n'));
    s.on('data', () => s.end());
    s.on('error', () => errors++);
    s.on('close', () => {
      done++;
      loop();
    });
  };
  for (let i = 0; i < 64; i++) loop();
  setTimeout(
    () => process.stdout.write(`${JSON.stringify({ done, errors })}\n`),
    seconds * 1000 + 500,
  );
}

/** 1 GiB through one connection; prints the seconds from connect to the backend's close. */
function bulk(port: number): void {
  const chunk = Buffer.alloc(1 << 20, 120);
  const total = 1024;
  const start = process.hrtime.bigint();
  const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      sent++;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
    s.end();
  };
  s.on('connect', pump);
  s.resume();
  s.on('close', () => {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    process.stdout.write(`${JSON.stringify({ seconds: secs, mib: total })}\n`);
  });
}

/** Opens `count` idle connections, reports when all are open, holds them until killed. */
function idle(port: number, count: number): void {
  const sockets: Socket[] = [];
  let open = 0;
  const next = (): void => {
    if (sockets.length >= count) return;
    const s = connect({ port, host: '127.0.0.1' }, () => {
      if (++open === count) process.stdout.write('open\n');
      else next();
    });
    s.on('error', () => undefined);
    sockets.push(s);
  };
  for (let i = 0; i < 50; i++) next();
}

// ---- the run -------------------------------------------------------------------------------

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function start(cpu: number, command: string, args: string[]): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', String(cpu), command, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

function self(role: string, ...more: string[]): string[] {
  return [__filename, '--role', role, ...more];
}

function run(role: string, ...more: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '0', process.execPath, ...self(role, ...more)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as Record<string, number>);
      } catch {
        reject(new Error(`${role} printed ${out}`));
      }
    });
  });
}

/** User and system CPU seconds of a process and its threads. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  const hz = Number(execFileSync('getconf', ['CLK_TCK']).toString());
  return (Number(fields[11]) + Number(fields[12])) / hz;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** The pid of the process taskset started (taskset execs it, so the same pid). */
const pidOf = (c: ChildProcess): number => c.pid!;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '5'));
  const reps = Number(arg('reps', '3'));
  const idleCount = Number(arg('idle', '9980'));
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-tcp-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '    nbthread 1',
      '    maxconn 9000',
      'defaults',
      '    mode tcp',
      '    timeout connect 5s',
      '    timeout client 60s',
      '    timeout server 60s',
      'frontend fe',
      `    bind 127.0.0.1:${HAPROXY_PORT}`,
      '    default_backend be',
      'backend be',
      '    balance source',
      ...BACKENDS.map((p, i) => `    server s${i + 1} 127.0.0.1:${p}`),
      '',
    ].join('\n'),
  );
  await start(0, process.execPath, self('backend'));
  const haproxy = spawn('taskset', ['-c', '1', 'haproxy', '-f', cfg, '-db'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(haproxy);
  const tetherProcess = await start(1, process.execPath, [
    ...(
      process.env.NODE_FLAGS ??
      readFileSync(join(__dirname, '../../../test/bench/node-flags'), 'utf8')
    )
      .split(/\s+/)
      .filter(Boolean),
    ...self('tether'),
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const proxies = [
    { name: 'haproxy', port: HAPROXY_PORT, pid: haproxy.pid! },
    { name: 'tether', port: TETHER_PORT, pid: pidOf(tetherProcess) },
  ];
  // Idle connections first, on the fresh process: what holding them costs, not the heap a
  // bulk transfer leaves behind.
  const idlers = await start(
    0,
    process.execPath,
    self('idle', '--port', String(TETHER_PORT), '--count', String(idleCount)),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = rssMiB(pidOf(tetherProcess));
  // Two per relayed connection: the count shows every idle connection reached an endpoint.
  const idleFds = readdirSync(`/proc/${pidOf(tetherProcess)}/fd`).length;
  idlers.kill('SIGKILL');
  const results = new Map<
    string,
    { rate: number[]; rateCpu: number[]; mibs: number[]; mibCpu: number[] }
  >();
  for (const p of proxies) results.set(p.name, { rate: [], rateCpu: [], mibs: [], mibCpu: [] });
  for (let rep = 0; rep < reps; rep++)
    for (const p of proxies) {
      const r = results.get(p.name)!;
      let before = cpuSeconds(p.pid);
      const counted = await run('rate', '--port', String(p.port), '--seconds', String(seconds));
      if (counted.errors) throw new Error(`${p.name}: ${counted.errors} connection errors`);
      r.rate.push(counted.done! / seconds);
      r.rateCpu.push(((cpuSeconds(p.pid) - before) * 1e6) / counted.done!);
      before = cpuSeconds(p.pid);
      const moved = await run('bulk', '--port', String(p.port));
      r.mibs.push(moved.mib! / moved.seconds!);
      r.mibCpu.push(((cpuSeconds(p.pid) - before) * 1e3) / moved.mib!);
      process.stderr.write(
        `${p.name} rep ${rep + 1}: ${(counted.done! / seconds).toFixed(0)} conn/s, ${(moved.mib! / moved.seconds!).toFixed(0)} MiB/s\n`,
      );
    }
  const h = results.get('haproxy')!;
  const t = results.get('tether')!;
  const row = (name: string, r: typeof h) =>
    `${name.padEnd(8)} ${median(r.rate).toFixed(0).padStart(8)} ${median(r.rateCpu).toFixed(1).padStart(12)} ${median(r.mibs).toFixed(0).padStart(8)} ${median(r.mibCpu).toFixed(2).padStart(12)}`;
  const lines = [
    '',
    `HAProxy ${execFileSync('haproxy', ['-v']).toString().split('\n')[0]?.split(' ')[2]} mode tcp balance source, nbthread 1, vs Tether (node ${process.version}) TCP listener with source-IP persistence; one core each; ${reps} interleaved repetitions, medians`,
    'proxy      conn/s  CPU us/conn    MiB/s  CPU ms/MiB',
    row('haproxy', h),
    row('tether', t),
    `connection rate ratio tether/haproxy: ${(median(t.rate) / median(h.rate)).toFixed(2)} (goal >= 0.33)`,
    `bulk throughput ratio tether/haproxy: ${(median(t.mibs) / median(h.mibs)).toFixed(2)} (goal >= 0.5)`,
    `tether RSS with ${idleCount} idle connections: ${idleRss.toFixed(0)} MiB (goal < 128), holding ${idleFds} descriptors`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

const role = arg('role', 'main');
if (role === 'backend') backend();
else if (role === 'tether') void tether();
else if (role === 'rate') rate(Number(arg('port', '0')), Number(arg('seconds', '5')));
else if (role === 'bulk') bulk(Number(arg('port', '0')));
else if (role === 'idle') idle(Number(arg('port', '0')), Number(arg('count', '1000')));
else
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
