/**
 * One Ingress's annotations as the controller would take them: each feature reads its keys
 * (in the order below, which is the order of the diagnostics), then checks them together.
 */
import type { Diagnostic } from '@tether/model';
import type { KubeObject } from '../types';
import { checkAffinity, readAffinity } from './features/affinity';
import { checkBalancing, readBalancing } from './features/balancing';
import { checkCanary, readCanary } from './features/canary';
import { readBackendTls } from './features/backend-tls';
import { readRouting } from './features/routing';
import { AnnotationReader } from './reader';
import type { NginxSettings } from './settings-shape';

/**
 * The settings last read from each object, so that the cross-Ingress check does not read every
 * Ingress twice. Reading is pure, so a stale entry can only come from an object changed in
 * place, which the registry never does.
 */
const lastRead = new WeakMap<KubeObject, NginxSettings>();

/** The settings of an object, from the last read when there was one. */
export function settingsOf(object: KubeObject): NginxSettings {
  return lastRead.get(object) ?? readSettings(object).settings;
}

/** Reads one object's annotations into settings, with a diagnostic for every value set aside. */
export function readSettings(object: KubeObject): {
  settings: NginxSettings;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const reader = new AnnotationReader(object, diagnostics);
  const settings: NginxSettings = {
    written: reader.written,
    vendorRejects: false,
    refused: false,
    affinity: false,
  };
  readAffinity(reader, settings);
  readBalancing(reader, settings);
  readCanary(reader, settings);
  readRouting(reader, settings);
  readBackendTls(reader, settings);
  settings.vendorRejects = reader.vendorRejects;
  checkAffinity(reader, settings);
  checkBalancing(reader, settings);
  checkCanary(reader, settings);
  settings.refused = settings.refused || settings.vendorRejects;
  lastRead.set(object, settings);
  return { settings, diagnostics };
}
