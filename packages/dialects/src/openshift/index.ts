import type { Dialect, KubeObject } from '../types';
import { OPENSHIFT_TABLE } from './annotations';
import { emit, targetKinds } from './emit';
import { parseRoute } from './parse';

/**
 * Every OpenShift Route is served by the router, which pins clients with a cookie unless told
 * otherwise, so the dialect applies to every Route, annotated or not.
 */
function isOpenShiftRoute(object: KubeObject): boolean {
  return (
    object.kind === 'Route' &&
    (object.apiVersion.startsWith('route.openshift.io/') || object.apiVersion === 'v1')
  );
}

export const openshift: Dialect = {
  id: 'openshift',
  title: 'OpenShift router (Route annotations)',
  prefixes: ['haproxy.router.openshift.io/', 'router.openshift.io/'],
  table: OPENSHIFT_TABLE,
  appliesTo: isOpenShiftRoute,
  parse: parseRoute,
  targetKinds,
  emit,
};
