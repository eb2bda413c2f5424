export * from './echo';
