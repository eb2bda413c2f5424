export * from './annotations';
export * from './apply';
export * from './cookie-config';
export * from './go-struct';
export * from './json-members';
export * from './persistence';
export * from './policy';
export * from './suggest';
