export * from './certificate';
export * from './echo';
export * from './apiserver';
