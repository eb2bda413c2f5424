import type { Dialect } from '../types';

export const ociLb: Dialect = {
  id: 'oci-lb',
  title: 'Oracle OCI load balancer (Service annotations)',
  prefixes: ['oci-load-balancer.oraclecloud.com/'],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
