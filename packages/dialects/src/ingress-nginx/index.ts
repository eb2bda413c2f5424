import type { Dialect, KubeObject } from '../types';
import { PREFIX, TABLE } from './annotations';
import { crossCheck } from './cross-check';
import { emit } from './emit';
import { OTHER_NGINX_KEYS } from './other-keys';
import { parse } from './parse';
import { AnnotationReader } from './reader';

/** Whether the object carries any annotation of the table, whatever its kind. */
function appliesTo(object: KubeObject): boolean {
  return new AnnotationReader(object, []).written.size > 0;
}

export const ingressNginx: Dialect = {
  id: 'ingress-nginx',
  title: 'ingress-nginx (Ingress annotations)',
  prefixes: [PREFIX],
  table: TABLE,
  otherVendorKeys: OTHER_NGINX_KEYS,
  appliesTo,
  parse,
  crossCheck,
  targetKinds: ['Ingress'],
  emit,
};
