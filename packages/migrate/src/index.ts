export { migrate } from './plan';
export type { FieldOutcome, MigrateOptions, MigrationResult, ObjectReport } from './report';
export { carryTableMarkdown } from './carry';
