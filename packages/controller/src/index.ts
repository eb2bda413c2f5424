export * from './snapshot';
export * from './serving';
export * from './endpoints';
export * from './parse-cache';
export * from './reconcile';
export * from './controller';
export * from './sources/source';
export * from './sources/files';
