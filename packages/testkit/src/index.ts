// Test stand-ins: the Kubernetes API server and self-signed certificates.
export {
  StandInApiServer,
  startApiServer,
  type ApiServerOptions,
  type ObjectChange,
} from './apiserver/server';
export type { Json, JsonObject } from './apiserver/types';
export { selfSignedCertificate, type PemPair } from './certificate';
