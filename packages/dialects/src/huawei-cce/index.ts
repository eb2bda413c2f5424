import type { Dialect } from '../types';
import { PREFIX, table } from './annotations';
import { emit, targetKinds } from './emit';
import { appliesTo, parse } from './parse';

/**
 * Huawei Cloud CCE: ELB annotations on Services (their own layer-4 listener, and the Ingress
 * routes in front of them, which the Service's settings override) and on Ingresses. Keys under
 * the prefix that the table lacks are reported as settings Tether does not read. Written on
 * Ingresses (cookie modes) and on LoadBalancer Services (SOURCE_IP); everything lives in
 * annotations, so no spec field is owned.
 */
export const huaweiCce: Dialect = {
  id: 'huawei-cce',
  title: 'Huawei Cloud CCE ELB (Service and Ingress annotations)',
  prefixes: [PREFIX],
  table,
  appliesTo,
  parse,
  targetKinds,
  emit,
};
