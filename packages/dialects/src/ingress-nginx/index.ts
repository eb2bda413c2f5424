import type { Dialect } from '../types';

export const ingressNginx: Dialect = {
  id: 'ingress-nginx',
  title: 'ingress-nginx (Ingress annotations)',
  prefixes: ['nginx.ingress.kubernetes.io/'],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
