import {
  BackendRef,
  Diagnostic,
  EntryFragment,
  FieldValues,
  SourceRef,
  error,
  warning,
} from '@tether/model';
import { namespaceOf, readIngress, sourceOf } from '../../kube';
import type { KubeObject, ParsedObject } from '../../types';
import { annotation, isPlainHttpListener } from '../common';
import { KEYS } from './annotations';

const DIALECT = 'oci-native-ingress';
const NIC_DEFAULT_POLICY = 'LEAST_CONNECTIONS';

/** One Ingress's share of a backend set: its settings and the entries that reach it. */
interface Member {
  object: KubeObject;
  values: FieldValues;
  entries: EntryFragment[];
}

const nameOf = (o: KubeObject): string => `${namespaceOf(o)}/${o.metadata.name}`;
const list = (members: readonly Member[]): string =>
  members.map((m) => `Ingress ${nameOf(m.object)}`).join(', ');

/** The spec path of the backend an entry routes to, so a diagnostic can point at it. */
function backendField(entry: EntryFragment): string {
  const rule = /^rules\[(\d+)\]\.paths\[(\d+)\]$/.exec(entry.entry.rule);
  return rule ? `spec.rules[${rule[1]}].http.paths[${rule[2]}].backend` : 'spec.defaultBackend';
}

/** Each entry fragment of an Ingress with the name of the backend set it joins. */
type Joins = readonly (readonly [backendSet: string, fragment: EntryFragment])[];

/**
 * Worked out once per parse result: the check runs on every change over every Ingress of the
 * dialect, and reading each spec again cost milliseconds at thousands of Ingresses.
 */
const joinsOf = new WeakMap<ParsedObject, Joins>();

function joins(p: ParsedObject): Joins {
  let found = joinsOf.get(p);
  if (!found) {
    const className = readIngress(p.object).spec?.ingressClassName ?? '';
    found = p.result.fragments.flatMap((f) =>
      f.type === 'entry'
        ? [
            [
              JSON.stringify([className, f.backend.namespace, f.backend.service, f.backend.port]),
              f,
            ] as const,
          ]
        : [],
    );
    joinsOf.set(p, found);
  }
  return found;
}

/**
 * The controller names a backend set after namespace, Service and port, and every Ingress of
 * one IngressClass routing there shares it.
 */
function groupByBackendSet(parsed: readonly ParsedObject[]): Map<string, Member[]> {
  const groups = new Map<string, Member[]>();
  for (const p of parsed) {
    if (p.object.kind !== 'Ingress') continue;
    for (const [key, f] of joins(p)) {
      const members = groups.get(key) ?? [];
      let member = members.find((m) => m.object === p.object);
      if (!member) {
        member = { object: p.object, values: f.values, entries: [] };
        members.push(member);
      }
      member.entries.push(f);
      groups.set(key, members);
    }
  }
  return groups;
}

function describe(b: BackendRef): string {
  return `${b.namespace}/${b.service}:${b.port}`;
}

/** Row 13: the controller refuses different policies for one backend set, the default included. */
function policyConflict(members: readonly Member[], backendSet: string): Diagnostic[] {
  const policies = members.map((m) => {
    const raw = annotation(m.object, KEYS.policy);
    return { member: m, policy: raw ?? NIC_DEFAULT_POLICY, isDefault: raw === undefined };
  });
  if (new Set(policies.map((p) => p.policy)).size < 2) return [];
  const described = policies
    .map(
      (p) =>
        `Ingress ${nameOf(p.member.object)} (${JSON.stringify(p.policy.slice(0, 40))}${p.isDefault ? ', the default' : ''})`,
    )
    .join(', ');
  return [
    error(
      'ConflictingLoadBalancing',
      `${described} route to one OCI backend set (${backendSet}) with different policies; the OCI native ingress controller refuses the whole IngressClass`,
      ...policies.map((p) => sourceOf(DIALECT, p.member.object, KEYS.policy, p.isDefault)),
    ),
  ];
}

/** The persistence settings an Ingress gives a backend set, comparable across Ingresses. */
function signature(values: FieldValues): string {
  return JSON.stringify(
    Object.entries(values)
      .filter(([field]) => !field.startsWith('loadBalancing.'))
      .map(([field, setting]) => [field, setting?.value])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

const persistenceKey = (m: Member): string =>
  m.values.mode?.value === 'appCookie' ? KEYS.appCookie : KEYS.lbCookie;

/** Rows 3 and 4, and an Ingress without persistence on a backend set that has it. */
function persistenceMerges(members: readonly Member[], backendSet: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const cookies = members.filter((m) => m.values.mode?.value === 'cookie');
  const apps = members.filter((m) => m.values.mode?.value === 'appCookie');
  const none = members.filter((m) => m.values.mode === undefined);
  const keySources = (ms: readonly Member[]): SourceRef[] =>
    ms.map((m) => sourceOf(DIALECT, m.object, persistenceKey(m)));
  if (cookies.length > 0 && apps.length > 0) {
    out.push(
      warning(
        'VendorWouldMerge',
        `${list(cookies)} (LB cookie) and ${list(apps)} (application cookie) route to one OCI backend set (${backendSet}); OCI keeps one persistence model per backend set and the LB cookie wins for all of them, while Tether keeps each Ingress's own setting`,
        ...keySources([...cookies, ...apps]),
      ),
    );
  }
  for (const [kind, same] of [
    ['LB-cookie', cookies],
    ['application-cookie', apps],
  ] as const) {
    if (new Set(same.map((m) => signature(m.values))).size < 2) continue;
    out.push(
      warning(
        'VendorWouldMerge',
        `${list(same)} give one OCI backend set (${backendSet}) different ${kind} settings; OCI applies the settings of whichever Ingress it processes first to all of them, while Tether keeps each Ingress's own`,
        ...keySources(same),
      ),
    );
  }
  const configured = [...cookies, ...apps];
  if (none.length > 0 && configured.length > 0) {
    out.push(
      warning(
        'VendorWouldMerge',
        `${list(none)} ${none.length === 1 ? 'has' : 'have'} no session persistence, but ${list(configured)} ${configured.length === 1 ? 'configures' : 'configure'} it on the same OCI backend set (${backendSet}), so OCI would make ${none.length === 1 ? 'its' : 'their'} traffic sticky too; Tether does not`,
        ...keySources(configured),
        ...none.map((m) => sourceOf(DIALECT, m.object, backendField(m.entries[0]!))),
      ),
    );
  }
  return out;
}

/** Row 8 across Ingresses: a Secure LB cookie on a backend set that another Ingress serves over HTTP. */
function secureAcrossIngresses(members: readonly Member[], backendSet: string): Diagnostic[] {
  const secure = members.filter((m) => m.values['cookie.secure']?.value === 'always');
  if (secure.length === 0) return [];
  const plain = members.filter(
    (m) =>
      !secure.includes(m) && m.entries.some((e) => e.entry.listeners.some(isPlainHttpListener)),
  );
  if (plain.length === 0) return [];
  return [
    error(
      'InsecureCookieOnHttpListener',
      `${list(secure)} ${secure.length === 1 ? 'sets' : 'set'} isSecure: true on the OCI backend set ${backendSet}, which ${list(plain)} ${plain.length === 1 ? 'serves' : 'serve'} over plain HTTP; OCI refuses a Secure LB cookie on a backend set that an HTTP listener uses`,
      ...secure.map((m) => sourceOf(DIALECT, m.object, KEYS.lbCookie)),
      ...plain.flatMap((m) =>
        m.entries
          .filter((e) => e.entry.listeners.some(isPlainHttpListener))
          .map((e) => sourceOf(DIALECT, m.object, backendField(e))),
      ),
    ),
  ];
}

/**
 * Rules of the controller that span Ingresses: it shares one backend set among every Ingress
 * of an IngressClass that routes to the same Service port.
 */
export function crossCheck(parsed: readonly ParsedObject[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const members of groupByBackendSet(parsed).values()) {
    if (members.length < 2) continue;
    const sorted = [...members].sort((a, b) => nameOf(a.object).localeCompare(nameOf(b.object)));
    const backendSet = describe(sorted[0]!.entries[0]!.backend);
    out.push(
      ...policyConflict(sorted, backendSet),
      ...persistenceMerges(sorted, backendSet),
      ...secureAcrossIngresses(sorted, backendSet),
    );
  }
  return out;
}
