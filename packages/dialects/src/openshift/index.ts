import type { Dialect } from '../types';

export const openshift: Dialect = {
  id: 'openshift',
  title: 'OpenShift router (Route annotations)',
  prefixes: ['haproxy.router.openshift.io/', 'router.openshift.io/'],
  table: [],
  appliesTo: () => false,
  parse: () => ({ fragments: [], diagnostics: [] }),
};
