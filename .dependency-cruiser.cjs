// The package boundaries of CONTRIBUTING.md ("How the packages fit"), checked by `npm test`
// (`npm run lint:imports`): a cycle or an import the table does not allow fails the run.
const PACKAGES = [
  'model',
  'dialects',
  'migrate',
  'dataplane',
  'echo',
  'testkit',
  'controller',
  'cli',
];

/** What each package's sources may import, besides themselves and Node's own modules. */
const MAY_IMPORT = {
  model: { tether: [], npm: ['zod'] },
  dialects: { tether: ['model'], npm: ['yaml', 'zod'] },
  migrate: { tether: ['model', 'dialects'], npm: ['yaml'] },
  dataplane: { tether: ['model'], npm: ['pino', 'prom-client'] },
  testkit: { tether: ['model'], npm: ['json-merge-patch', 'rfc6902'] },
  controller: {
    tether: ['model', 'dialects', 'dataplane'],
    npm: ['@kubernetes/client-node', 'yaml'],
  },
  echo: { tether: [], npm: ['ws'] },
  cli: {
    tether: ['model', 'dialects', 'migrate', 'dataplane', 'controller', 'echo'],
    npm: ['@commander-js/extra-typings', 'commander', 'diff', 'yaml', 'zod'],
  },
};

const SOURCE = (name) => `^packages/${name}/src/`;
const TEST_FILE = '\\.test\\.ts$';
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\/@]/g, '\\$&');

const boundaries = PACKAGES.map((name) => {
  const allowed = [name, ...MAY_IMPORT[name].tether].map(SOURCE);
  const npm = MAY_IMPORT[name].npm.map((p) => `^node_modules/${escapeRegex(p)}/`);
  return {
    name: `imports-of-${name}`,
    comment: `${name} may import ${[...MAY_IMPORT[name].tether, ...MAY_IMPORT[name].npm].join(', ') || 'nothing'} (CONTRIBUTING.md)`,
    severity: 'error',
    from: { path: SOURCE(name), pathNot: TEST_FILE },
    to: { dependencyTypesNot: ['core'], pathNot: [...allowed, ...npm] },
  };
});

/** A unit test imports what its package may import, and the stand-ins of testkit. */
const unitTestBoundaries = PACKAGES.map((name) => ({
  name: `imports-of-${name}-tests`,
  severity: 'error',
  from: { path: `${SOURCE(name)}.+${TEST_FILE}` },
  to: {
    path: '^packages/',
    pathNot: [name, ...MAY_IMPORT[name].tether, 'testkit'].map(SOURCE),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Files import each other in one direction only.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...boundaries,
    {
      name: 'tests-stay-out-of-sources',
      comment: 'A source file never imports a test or the shared test support.',
      severity: 'error',
      from: { path: '^packages/', pathNot: TEST_FILE },
      to: { path: [TEST_FILE, '^test/'] },
    },
    ...unitTestBoundaries,
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^packages/[^/]+/dist/', '^\\.build/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.imports.json' },
  },
};
