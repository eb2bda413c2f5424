export { migrate } from './plan';
export type { MigrationResult, ObjectReport } from './report';
export { carryTableMarkdown } from './carry';
