export * from './echo';
export * from './apiserver';
