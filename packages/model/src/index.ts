export * from './refs';
export * from './policy';
export * from './fields';
export * from './diagnostics';
export * from './fragment';
export * from './assemble';
export * from './resolve';
export * from './flatten';
