import type { Dialect, KubeObject } from '../../types';
import { annotationsOf } from '../../kube';
import { PERSISTENCE_PREFIXES, PREFIX, TABLE } from './annotations';
import { crossCheck } from './cross-check';
import { emit, targetKinds } from './emit';
import { parse } from './parse';

export const ociNativeIngress: Dialect = {
  id: 'oci-native-ingress',
  title: 'OCI native ingress controller (Ingress annotations)',
  // The controller defines many keys under its prefix that Tether does not read (health
  // checks, firewalls, tags), so the generic unknown-key check covers only the persistence
  // family; the parser itself reports keys the controller does not define at all.
  prefixes: PERSISTENCE_PREFIXES,
  table: TABLE,
  // Any key of the controller means it serves the Ingress, and its default policy applies.
  appliesTo: (object: KubeObject) =>
    object.kind === 'Ingress' &&
    Object.keys(annotationsOf(object)).some((k) => k.startsWith(PREFIX)),
  parse,
  crossCheck,
  targetKinds,
  emit,
};
