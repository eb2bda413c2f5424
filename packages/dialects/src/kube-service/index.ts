import type { Dialect } from '../types';

export const kubeService: Dialect = {
  id: 'kube-service',
  title: 'Kubernetes Service sessionAffinity',
  prefixes: [],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
