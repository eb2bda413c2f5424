import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { listDialects, renderDialectsText } from './dialects';
import { explain, renderExplainText } from './explain';
import { readInputs, readStdin } from './input';
import { lint } from './lint';
import { runMigrate, writeFiles } from './migrate';
import {
  describeStartError,
  SERVE_FLAGS,
  ServeOptionsSchema,
  startServe,
  startServeWorker,
  type ServeOptions,
} from './serve';
import { WORKER_ENV } from '@tether/dataplane';
import { z } from 'zod';
import { startUp } from './up';
import { renderData } from './output';
import { runEvents } from './events';
import { renderVersionText, tetherVersion, versionInfo } from './version';

/** Where a command writes; the binary passes the process streams, tests pass buffers. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin(): string;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: readStdin,
};

const filesOption = () =>
  new Option(
    '-f, --filename <path...>',
    'manifest files or folders, or - for standard input',
  ).makeOptionMandatory();

export function buildProgram(
  io: Io,
  setExitCode: (code: number) => void,
  name = 'tether',
): Command {
  const program = new Command()
    .name(name)
    .description('Sticky sessions in the dialects of the load balancers you already use.')
    .version(tetherVersion(), '--version', 'print the version')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('version')
    .description('print the version of tether and of the Node.js it runs on')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json', 'yaml'] as const)
        .default('text' as const),
    )
    .action((opts) => {
      const info = versionInfo();
      io.stdout(opts.output === 'text' ? renderVersionText(info) : renderData(info, opts.output));
    });

  program
    .command('explain')
    .description(
      'show the resolved session policy of every entry point and backend, and where each value came from',
    )
    .addOption(filesOption())
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json', 'yaml'] as const)
        .default('text' as const),
    )
    .option(
      '--service-listen <host>',
      'the address LoadBalancer Service ports are shown on, as serve binds them',
      '127.0.0.1',
    )
    .addOption(
      new Option(
        '--service-port-offset <n>',
        'added to every Service port, as serve and up do (up uses 10000)',
      )
        .argParser(portOffset)
        .default(0),
    )
    .action((opts) => {
      const input = readInputs(opts.filename, io.stdin);
      const report = explain(input.objects, input.diagnostics, {
        host: opts.serviceListen,
        portOffset: opts.servicePortOffset,
      });
      io.stdout(
        opts.output === 'text' ? renderExplainText(report) : renderData(report, opts.output),
      );
      if (input.objects.length === 0 && input.diagnostics.length > 0) setExitCode(1);
    });

  program
    .command('lint')
    .description('check manifests; exit 1 when there is an error (with --strict, also a warning)')
    .addOption(filesOption())
    .option('--strict', 'treat warnings as errors', false)
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json', 'yaml'] as const)
        .default('text' as const),
    )
    .action((opts) => {
      const input = readInputs(opts.filename, io.stdin);
      const { diagnostics } = explain(input.objects, input.diagnostics);
      const outcome = lint(diagnostics, opts.strict);
      io.stdout(opts.output === 'text' ? outcome.text : renderData({ diagnostics }, opts.output));
      setExitCode(outcome.exitCode);
    });

  program
    .command('dialects')
    .description('list every dialect and every key it reads')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json', 'yaml'] as const)
        .default('text' as const),
    )
    .action((opts) => {
      const listing = listDialects();
      io.stdout(
        opts.output === 'text' ? renderDialectsText(listing) : renderData(listing, opts.output),
      );
    });

  program
    .command('migrate')
    .description(
      'rewrite manifests from one dialect to another, keeping comments and layout; report what could not be carried',
    )
    .requiredOption('--to <dialect>', 'the dialect to write')
    .option(
      '--from <dialect>',
      'only move settings of this dialect (default: every dialect but the target)',
    )
    .addOption(filesOption())
    .addOption(
      new Option('-o, --output <format>', 'format of the manifests on stdout')
        .choices(['yaml', 'json'] as const)
        .default('yaml' as const),
    )
    .option('--in-place', 'rewrite the files instead of printing them', false)
    .option('--dry-run', 'print a unified diff of what would change and write nothing', false)
    .addOption(
      new Option('--report <format>', 'format of the report on stderr')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .option('--keep-source', 'keep the source object next to a converted one', false)
    .option('--explicit', "also write values equal to the target's defaults", false)
    .option(
      '--gateway <[namespace/]name>',
      'the Gateway that HTTPRoutes made from Ingresses or Routes attach to; written too (HTTP, and HTTPS for each TLS host) when the input has none',
      'tether',
    )
    .addOption(
      new Option(
        '--session-shape <shape>',
        "Gateway API: released writes the v1.6 sessionPersistence (sessionName, cookieConfig); union writes the cookie/header union of the API's main branch (cookie.name, cookie.path, header.name)",
      )
        .choices(['released', 'union'] as const)
        .default('released' as const),
    )
    .option(
      '--ingress-class <name>',
      'the IngressClass that Ingresses made from Routes or HTTPRoutes name',
    )
    .option(
      '--adopt-cookies',
      "write tether.dev/adopt-cookies where the source's cookie can be adopted (ingress-nginx, openshift), so Tether keeps the sessions it started",
      false,
    )
    .option('--no-adopt-cookies', 'write no adoption (the default)')
    .option('--adopt-cookies-until <time>', 'RFC 3339 end of that adoption')
    .action((opts) => {
      const outcome = runMigrate({ ...opts, filename: opts.filename }, io.stdin);
      writeFiles(outcome.writes);
      io.stdout(outcome.stdout);
      io.stderr(outcome.stderr);
      setExitCode(outcome.exitCode);
    });

  const withServeFlags = <
    C extends { option(flags: string, description: string, defaultValue?: string): C },
  >(
    command: C,
  ): C => {
    for (const [flags, description, defaultValue] of SERVE_FLAGS)
      command.option(flags, description, defaultValue);
    return command;
  };
  const serveOptions = (raw: unknown): ServeOptions | undefined => {
    const checked = ServeOptionsSchema.safeParse(raw);
    if (checked.success) return checked.data;
    io.stderr(`tether: ${z.prettifyError(checked.error).replace(/\n/g, ' ')}\n`);
    setExitCode(1);
    return undefined;
  };

  withServeFlags(
    program
      .command('serve')
      .description('run the controller and the proxy')
      .option(
        '--manifests <path...>',
        'serve these manifest files or folders (reloaded on change) instead of a cluster',
      )
      .option(
        '--kubeconfig <file>',
        'the cluster to serve (default: the in-cluster service account)',
      )
      .option(
        '--publish-address <address...>',
        'addresses to write into Ingress status.loadBalancer',
      ),
  ).action(async (raw) => {
    const opts = serveOptions(raw);
    if (!opts) return;
    // A proxy worker forked by `serve --workers`: the same flags, the proxy alone.
    if (process.env[WORKER_ENV] === '1')
      return runUntilSignal(() => startServeWorker(opts), io, setExitCode);
    if (opts.manifests && opts.kubeconfig) {
      io.stderr('tether serve: give either --manifests or --kubeconfig, not both\n');
      setExitCode(1);
      return;
    }
    await runUntilSignal(() => startServe(opts), io, setExitCode);
  });

  withServeFlags(
    program
      .command('up')
      .description(
        'the local quick start: serve a folder of manifests and start an echo backend for each loopback endpoint nothing serves',
      )
      .argument('[dir]', 'folder of manifests', 'examples/quickstart'),
  ).action(async (dir, raw) => {
    const opts = serveOptions(raw);
    if (!opts) return;
    await runUntilSignal(
      async () => {
        const running = await startUp(dir, opts);
        io.stdout(running.hint);
        return running;
      },
      io,
      setExitCode,
    );
  });

  program
    .command('events')
    .description(
      "show Tether's reconcile Events (like kubectl events, only ours), from the cluster or from a local tether serve",
    )
    .option(
      '--kubeconfig <path>',
      'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('-n, --namespace <namespace>', "only this namespace (default: the context's)")
    .option('-A, --all-namespaces', 'every namespace', false)
    .option('--for <kind/name>', 'only Events about this object, for example ingress/web')
    .option('--types <types>', 'Normal, Warning or both, comma-separated')
    .option('-w, --watch', 'keep printing new Events', false)
    .option(
      '--api <host:port>',
      'read a local tether serve (its --api address, 127.0.0.1:9091 unless moved) instead of a cluster',
    )
    .addOption(new Option('--admin <host:port>', 'the former name of --api').hideHelp())
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'] as const)
        .default('table' as const),
    )
    .action(async (opts) => setExitCode(await runEvents(opts, io)));

  return program;
}

/** Starts a long-running command and stops it cleanly on SIGINT or SIGTERM. */
async function runUntilSignal(
  start: () => Promise<{ stop(): Promise<void> }>,
  io: Io,
  setExitCode: (code: number) => void,
): Promise<void> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (e) {
    io.stderr(`tether: ${describeStartError(e)}\n`);
    setExitCode(1);
    return;
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      running.stop().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** A port offset as serve takes it: a whole number that keeps port 1 under 65536. */
function portOffset(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65534)
    throw new InvalidArgumentError('a whole number from 0 to 65534');
  return n;
}

/** Runs the CLI and returns the exit code; never throws for bad usage or bad input. */
/** `name`: how the user called us (`kubectl tether` as a kubectl plugin). */
export async function run(
  argv: readonly string[],
  io: Io = processIo,
  name = 'tether',
): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = Math.max(exitCode, code);
    },
    name,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number') return code;
    io.stderr(`tether: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return exitCode;
}
