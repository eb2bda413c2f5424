export { run, buildProgram, type Io } from './program';
export { readInputs } from './input';
export { renderReadme } from './docs';
export { reportText as renderMigrationReport } from './migrate';
export { unifiedDiff } from './diff';
