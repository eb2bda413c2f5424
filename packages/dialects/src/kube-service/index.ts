import type { Dialect } from '../types';
import { table } from './annotations';
import { emit, ownedSpec, targetKinds } from './emit';
import { appliesTo, parse } from './parse';

export const kubeService: Dialect = {
  id: 'kube-service',
  title: 'Kubernetes Service sessionAffinity',
  prefixes: [],
  table,
  appliesTo,
  parse,
  targetKinds,
  emit,
  ownedSpec,
};
