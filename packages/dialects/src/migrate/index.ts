export {
  migrate,
  type MigrateOptions,
  type MigrationResult,
  type ObjectReport,
  type FieldOutcome,
} from './plan';
export { rewriteText, type ObjectEdits, type DocumentChange } from './yaml-edit';
export { convert, type Conversion } from './convert';
export { carryTable, carryTableMarkdown, PROBES } from './carry';
