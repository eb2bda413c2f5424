export * from './certificate';

export * from './apiserver';
