import type { Dialect } from '../types';

export const ociNativeIngress: Dialect = {
  id: 'oci-native-ingress',
  title: 'OCI native ingress controller (Ingress annotations)',
  prefixes: ['oci-native-ingress.oraclecloud.com/'],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
