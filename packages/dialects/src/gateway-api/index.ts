import type { Dialect } from '../types';

export const gatewayApi: Dialect = {
  id: 'gateway-api',
  title: 'Gateway API sessionPersistence (HTTPRoute, BackendTrafficPolicy)',
  prefixes: [],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
