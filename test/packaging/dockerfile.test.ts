/**
 * The Dockerfile cannot be built here (no container engine), so this test checks what a build
 * depends on: every workspace package is compiled and shipped, the runtime stage holds only what
 * runs, the user and ports match the chart, and every package the binary imports is a
 * production dependency (`npm ci --omit=dev` installs it).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './chart';

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** Instructions by stage, with continuation lines joined and comments dropped. */
function stages(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const line of lines) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    const [, op, rest] = match as unknown as [string, string, string];
    if (op === 'ARG' && out.length === 0) {
      const [name, value] = rest.split('=');
      args.set(name!, value ?? '');
    } else if (op === 'FROM') {
      const [image, , name] = rest.split(/\s+/);
      const from = image!.replace(/^\$\{(\w+)\}$/, (_, n: string) => args.get(n) ?? '');
      out.push(name ? { from, name, instructions: [] } : { from, instructions: [] });
    } else {
      out.at(-1)?.instructions.push({ op, args: rest });
    }
  }
  return { args, stages: out };
}

const dockerfile = stages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  workspaces: string[];
};
const values = parseYaml(readFileSync(join(ROOT, 'charts', 'tether', 'values.yaml'), 'utf8')) as {
  image: { repository: string };
  ports: { http: number; https: number; admin: number };
};
const chart = parseYaml(readFileSync(join(ROOT, 'charts', 'tether', 'Chart.yaml'), 'utf8')) as {
  appVersion: string;
};
const deployment = readFileSync(
  join(ROOT, 'charts', 'tether', 'templates', 'deployment.yaml'),
  'utf8',
);

const stage = (name: string): Stage => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const runtime = dockerfile.stages.at(-1)!;

/** A workspace package and every @tether package it depends on, by folder name. */
function tetherPackagesOf(name: string, seen = new Set<string>()): string[] {
  if (seen.has(name)) return [...seen];
  seen.add(name);
  const manifest = JSON.parse(
    readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8'),
  ) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {}))
    if (dependency.startsWith('@tether/')) tetherPackagesOf(dependency.slice(8), seen);
  return [...seen];
}
const ops = (s: Stage, op: string): string[] =>
  s.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds on Node 20 slim and runs on distroless Node 20 as a non-root user', () => {
    expect(stage('build').from).toMatch(/^node:20[.\d]*-\w+-slim$/);
    expect(stage('deps').from).toBe(stage('build').from);
    expect(runtime.from).toBe('gcr.io/distroless/nodejs20-debian12:nonroot');
    expect(ops(runtime, 'USER')).toEqual(['65532:65532']);
    expect(deployment).toContain('runAsUser: 65532');
    expect(deployment).toContain('runAsNonRoot: true');
  });

  it('compiles with npm ci and tsc -b, and installs production dependencies from the lock', () => {
    const build = ops(stage('build'), 'RUN').join('\n');
    expect(build).toMatch(/^npm ci\b/m);
    expect(build).toMatch(/^npx tsc -b packages\/cli\b/m);
    expect(ops(stage('deps'), 'RUN')).toEqual([
      'npm ci --omit=dev --ignore-scripts --no-audit --no-fund',
    ]);
    expect(ops(runtime, 'RUN')).toEqual([]);
  });

  it('copies every workspace package in, and ships only package.json and dist of what the cli runs on', () => {
    for (const workspace of rootPackage.workspaces) {
      const manifest = `COPY ${workspace}/package.json ${workspace}/`;
      expect(ops(stage('build'), 'COPY')).toContain(manifest.slice(5));
      expect(ops(stage('deps'), 'COPY')).toContain(manifest.slice(5));
    }
    const shipped = tetherPackagesOf('cli');
    expect(shipped).not.toContain('testkit');
    for (const name of shipped) {
      const workspace = `packages/${name}`;
      expect(ops(runtime, 'COPY')).toEqual(
        expect.arrayContaining([
          `--from=build /src/${workspace}/package.json ${workspace}/`,
          `--from=build /src/${workspace}/dist ${workspace}/dist/`,
        ]),
      );
    }
    for (const copy of ops(runtime, 'COPY')) {
      const name = /packages\/([a-z]+)\//.exec(copy)?.[1];
      if (name) expect(shipped).toContain(name);
      expect(copy).toMatch(
        /^--from=(deps \/app\/(package\.json|node_modules) |build \/src\/packages\/([a-z]+\/(package\.json|dist)|cli\/bin) )/,
      );
    }
  });

  it('starts the tether binary, on the ports the chart uses', () => {
    const cli = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    // The node flags the benchmarks measure with (test/bench/node-flags) are the image's.
    const flags = readFileSync(join(ROOT, 'test', 'bench', 'node-flags'), 'utf8')
      .trim()
      .split(/\s+/);
    expect(ops(runtime, 'ENTRYPOINT')).toEqual([
      JSON.stringify(['/nodejs/bin/node', ...flags, `/app/packages/cli/${cli.bin.tether}`]).replace(
        /,/g,
        ', ',
      ),
    ]);
    expect(ops(runtime, 'EXPOSE')).toEqual([
      `${values.ports.http} ${values.ports.https} ${values.ports.admin}`,
    ]);
  });

  it("is the chart's default image", () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(chart.appVersion).toBe(rootPackage.version);
    expect(text).toContain(`docker build -t ${values.image.repository}:${chart.appVersion} .`);
  });

  it('keeps dependencies, builds and tests out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(
      expect.arrayContaining(['*', 'packages/*/dist', 'packages/*/node_modules']),
    );
    expect(ignore).not.toContain('!test/');
  });
});

/** Packages the code reachable from `from` imports at run time (type-only imports left out). */
function runtimeImports(from: string): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const builtins = new Set(builtinModules);
  const pending = [from];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms),
      ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const local = /^@tether\/([a-z-]+)$/.exec(spec);
      if (local) {
        pending.push(join(ROOT, 'packages', local[1]!, 'src', 'index.ts'));
      } else if (spec.startsWith('.')) {
        const base = join(dirname(file), spec);
        const candidates = [`${base}.ts`, join(base, 'index.ts')];
        const found = candidates.find((c) => existsSync(c));
        if (!found) throw new Error(`${file}: cannot resolve ${spec}`);
        pending.push(found);
      } else {
        const parts = spec.split('/');
        external.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return external;
}

describe('the production dependency set', () => {
  it('holds every package that the tether binary imports', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const imported = runtimeImports(join(ROOT, 'packages', 'cli', 'src', 'bin.ts'));
    expect(imported).toContain('zod');
    for (const name of imported) {
      const entry = lock.packages[`node_modules/${name}`];
      expect({ name, installed: entry !== undefined, dev: entry?.dev === true }).toEqual({
        name,
        installed: true,
        dev: false,
      });
    }
  });
});
