export { run, buildProgram, type Io } from './program';
export { explain, renderExplainText, type ExplainReport, type ExplainedBackend } from './explain';
export { readInputs } from './input';
export { renderReadme, keysTableMarkdown } from './docs';
export { reportText as renderMigrationReport } from './migrate';
export { unifiedDiff } from './diff';
