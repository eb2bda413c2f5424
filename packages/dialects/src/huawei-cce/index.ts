import type { Dialect } from '../types';

export const huaweiCce: Dialect = {
  id: 'huawei-cce',
  title: 'Huawei Cloud CCE ELB (Service and Ingress annotations)',
  prefixes: ['kubernetes.io/elb.'],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
