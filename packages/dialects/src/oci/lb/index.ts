import type { Dialect, KubeObject } from '../../types';
import { presentKeys } from '../common';
import { TABLE } from './annotations';
import { emit, targetKinds } from './emit';
import { parse } from './parse';

const TABLE_KEYS = TABLE.map((k) => k.key);

export const ociLb: Dialect = {
  id: 'oci-lb',
  title: 'Oracle OCI load balancer (Service annotations)',
  // Only the persistence family is checked for unknown keys: the other OCI prefixes hold many
  // keys (shapes, subnets, health checks, tags) that are valid but outside Tether's concern.
  prefixes: ['oci-load-balancer.oraclecloud.com/'],
  table: TABLE,
  appliesTo: (object: KubeObject) =>
    object.kind === 'Service' && presentKeys(object, TABLE_KEYS).length > 0,
  parse,
  targetKinds,
  emit,
};
