import { Command, Option } from '@commander-js/extra-typings';
import { listDialects, renderDialectsText } from './dialects';
import { explain, renderExplainText } from './explain';
import { readInputs, readStdin } from './input';
import { lint } from './lint';
import { runMigrate, writeFiles } from './migrate';
import { renderData } from './output';

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

export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command()
    .name('tether')
    .description('Sticky sessions in the dialects of the load balancers you already use.')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

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
    .action((opts) => {
      const input = readInputs(opts.filename, io.stdin);
      const report = explain(input.objects, input.diagnostics);
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
      '--gateway <name>',
      'the Gateway that HTTPRoutes made from Ingresses or Routes attach to',
      'tether',
    )
    .option(
      '--ingress-class <name>',
      'the IngressClass that Ingresses made from Routes or HTTPRoutes name',
    )
    .action((opts) => {
      const outcome = runMigrate({ ...opts, filename: opts.filename }, io.stdin);
      writeFiles(outcome.writes);
      io.stdout(outcome.stdout);
      io.stderr(outcome.stderr);
      setExitCode(outcome.exitCode);
    });

  return program;
}

/** Runs the CLI and returns the exit code; never throws for bad usage or bad input. */
export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = Math.max(exitCode, code);
  });
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
