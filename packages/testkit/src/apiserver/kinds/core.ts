/** core/v1 kinds other than Events: Namespaces, Services, Endpoints, Secrets, ConfigMaps. */
import { ageCell, column, nameCell, resource, type ResourceDef } from '../resource';
import type { FieldError } from '../status';
import { isObject, stringAt, type Json, type JsonObject } from '../types';
import { integerIn, oneOf } from '../validation';

const SPEC_AND_STATUS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

function ensureObject(parent: JsonObject, key: string): JsonObject {
  const existing = parent[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

export const namespaces: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'namespaces',
  topLevelFields: SPEC_AND_STATUS,
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  hasStatus: true,
  nameRule: 'label',
  fieldSelectors: { 'status.phase': (object) => stringAt(object, ['status', 'phase']) },
  defaults(object) {
    const spec = ensureObject(object, 'spec');
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    const status = ensureObject(object, 'status');
    if (typeof status.phase !== 'string') status.phase = 'Active';
    const metadata = ensureObject(object, 'metadata');
    const labels = ensureObject(metadata, 'labels');
    labels['kubernetes.io/metadata.name'] = stringAt(object, ['metadata', 'name']);
  },
  table: {
    columns: [
      column('Name', 'Name of the namespace'),
      column('Status', 'The status of the namespace'),
      column('Age', 'Time since the namespace was created'),
    ],
    cells: (object, now) => [
      nameCell(object),
      stringAt(object, ['status', 'phase']),
      ageCell(object, now),
    ],
  },
});

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const IANA_SERVICE_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function serviceDefaults(
  object: JsonObject,
  old: JsonObject | undefined,
  allocate: { clusterIP(): string; nodePort(): number },
): void {
  const spec = ensureObject(object, 'spec');
  const oldSpec = old !== undefined && isObject(old.spec) ? old.spec : {};
  if (typeof spec.type !== 'string') spec.type = 'ClusterIP';
  if (typeof spec.sessionAffinity !== 'string') spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'ClientIP' && !isObject(spec.sessionAffinityConfig)) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  const oldPorts = Array.isArray(oldSpec.ports) ? oldSpec.ports.filter(isObject) : [];
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (Array.isArray(spec.ports)) {
    for (const port of spec.ports) {
      if (!isObject(port)) continue;
      if (typeof port.protocol !== 'string') port.protocol = 'TCP';
      if (port.targetPort === undefined || port.targetPort === null)
        port.targetPort = port.port ?? null;
      if (nodePorts && typeof port.nodePort !== 'number') {
        const previous = oldPorts.find(
          (candidate) => candidate.port === port.port && typeof candidate.nodePort === 'number',
        );
        port.nodePort = previous?.nodePort ?? allocate.nodePort();
      }
    }
  }
  if (spec.type !== 'ExternalName') {
    // Like kube-apiserver, an update that leaves allocated values out keeps the old ones.
    if (typeof spec.clusterIP !== 'string' || spec.clusterIP === '') {
      spec.clusterIP =
        typeof oldSpec.clusterIP === 'string' ? oldSpec.clusterIP : allocate.clusterIP();
    }
    if (!Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
    if (spec.clusterIP !== 'None' || spec.selector !== undefined) {
      if (!Array.isArray(spec.ipFamilies)) spec.ipFamilies = ['IPv4'];
      if (typeof spec.ipFamilyPolicy !== 'string') spec.ipFamilyPolicy = 'SingleStack';
    }
    if (typeof spec.internalTrafficPolicy !== 'string') spec.internalTrafficPolicy = 'Cluster';
  }
  if (nodePorts && typeof spec.externalTrafficPolicy !== 'string')
    spec.externalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && typeof spec.allocateLoadBalancerNodePorts !== 'boolean') {
    spec.allocateLoadBalancerNodePorts = true;
  }
  const status = ensureObject(object, 'status');
  if (!isObject(status.loadBalancer)) status.loadBalancer = {};
}

function validatePorts(ports: Json | undefined, errors: FieldError[]): void {
  if (!Array.isArray(ports)) {
    if (ports !== undefined && ports !== null)
      errors.push({ type: 'Invalid', field: 'spec.ports', value: ports, detail: 'must be a list' });
    return;
  }
  const names = new Set<string>();
  ports.forEach((port, index) => {
    const field = `spec.ports[${index}]`;
    if (!isObject(port)) {
      errors.push({ type: 'Invalid', field, value: port, detail: 'must be an object' });
      return;
    }
    if (port.port === undefined || port.port === null)
      errors.push({ type: 'Required', field: `${field}.port` });
    else integerIn(port.port, 1, 65535, `${field}.port`, errors);
    oneOf(port.protocol, PROTOCOLS, `${field}.protocol`, errors);
    const name = port.name;
    if (ports.length > 1 && (typeof name !== 'string' || name === '')) {
      errors.push({ type: 'Required', field: `${field}.name` });
    }
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) errors.push({ type: 'Duplicate', field: `${field}.name`, value: name });
      names.add(name);
    }
    const target = port.targetPort;
    if (typeof target === 'number') integerIn(target, 1, 65535, `${field}.targetPort`, errors);
    else if (typeof target === 'string' && !IANA_SERVICE_NAME.test(target)) {
      errors.push({
        type: 'Invalid',
        field: `${field}.targetPort`,
        value: target,
        detail: 'must be a port number or an IANA service name',
      });
    }
  });
}

function validateService(object: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(object.spec) ? object.spec : {};
  oneOf(spec.type, SERVICE_TYPES, 'spec.type', errors);
  oneOf(spec.sessionAffinity, ['None', 'ClientIP'], 'spec.sessionAffinity', errors);
  const config = spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout =
      isObject(config) && isObject(config.clientIP) ? config.clientIP.timeoutSeconds : undefined;
    integerIn(timeout, 1, 86400, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', errors);
  } else if (config !== undefined && config !== null) {
    errors.push({
      type: 'Invalid',
      field: 'spec.sessionAffinityConfig',
      value: config,
      detail: `must not be set when session affinity is ${String(spec.sessionAffinity)}`,
    });
  }
  if (spec.type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || spec.externalName === '') {
      errors.push({ type: 'Required', field: 'spec.externalName' });
    }
  } else if (spec.clusterIP !== 'None' && (!Array.isArray(spec.ports) || spec.ports.length === 0)) {
    errors.push({ type: 'Required', field: 'spec.ports' });
  }
  validatePorts(spec.ports, errors);
  const oldIP = old !== undefined ? stringAt(old, ['spec', 'clusterIP']) : '';
  if (oldIP !== '' && spec.type !== 'ExternalName' && spec.clusterIP !== oldIP) {
    errors.push({
      type: 'Invalid',
      field: 'spec.clusterIPs[0]',
      value: spec.clusterIP,
      detail: 'may not change once set',
    });
  }
  return errors;
}

function servicePorts(spec: JsonObject): string {
  if (!Array.isArray(spec.ports) || spec.ports.length === 0) return '<none>';
  return spec.ports
    .filter(isObject)
    .map((port) => {
      const node = typeof port.nodePort === 'number' ? `:${port.nodePort}` : '';
      return `${String(port.port)}${node}/${typeof port.protocol === 'string' ? port.protocol : 'TCP'}`;
    })
    .join(',');
}

function externalIPs(object: JsonObject): string {
  const ingress =
    isObject(object.status) && isObject(object.status.loadBalancer)
      ? object.status.loadBalancer.ingress
      : undefined;
  const addresses = Array.isArray(ingress)
    ? ingress
        .filter(isObject)
        .map((entry) =>
          typeof entry.ip === 'string'
            ? entry.ip
            : typeof entry.hostname === 'string'
              ? entry.hostname
              : '',
        )
    : [];
  const spec = isObject(object.spec) ? object.spec : {};
  if (addresses.length > 0) return addresses.join(',');
  if (spec.type === 'LoadBalancer') return '<pending>';
  if (spec.type === 'ExternalName') return stringAt(spec, ['externalName']);
  return '<none>';
}

export const services: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'services',
  topLevelFields: SPEC_AND_STATUS,
  singular: 'service',
  kind: 'Service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  hasStatus: true,
  nameRule: 'label1035',
  defaults: serviceDefaults,
  validate: validateService,
  table: {
    columns: [
      column('Name', 'Name of the service'),
      column('Type', 'The type of the service'),
      column('Cluster-IP', 'The cluster IP of the service'),
      column('External-IP', 'External addresses of the service'),
      column('Port(s)', 'Ports of the service'),
      column('Age', 'Time since the service was created'),
      column('Selector', 'Pod selector of the service', 1),
    ],
    cells(object, now) {
      const spec = isObject(object.spec) ? object.spec : {};
      const selector = isObject(spec.selector)
        ? Object.entries(spec.selector)
            .map(([key, value]) => `${key}=${String(value)}`)
            .join(',')
        : '';
      return [
        nameCell(object),
        stringAt(spec, ['type']),
        stringAt(spec, ['clusterIP']) || '<none>',
        externalIPs(object),
        servicePorts(spec),
        ageCell(object, now),
        selector === '' ? '<none>' : selector,
      ];
    },
  },
});

export const endpoints: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'endpoints',
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'subsets'],
  singular: 'endpoints',
  kind: 'Endpoints',
  namespaced: true,
  shortNames: ['ep'],
  createOnUpdate: true,
});

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateDataKeys(
  data: Json | undefined,
  field: string,
  errors: FieldError[],
  base64: boolean,
): void {
  if (data === undefined || data === null) return;
  if (!isObject(data)) {
    errors.push({ type: 'Invalid', field, value: data, detail: 'must be a map' });
    return;
  }
  for (const [key, value] of Object.entries(data)) {
    if (!CONFIG_KEY.test(key) || key.length > 253) {
      errors.push({
        type: 'Invalid',
        field,
        value: key,
        detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
      });
    }
    if (typeof value !== 'string' || (base64 && !BASE64.test(value))) {
      errors.push({
        type: 'Invalid',
        field: `${field}[${key}]`,
        value: typeof value === 'string' ? '<redacted>' : value,
        detail: base64 ? 'must be base64-encoded' : 'must be a string',
      });
    }
  }
}

export const secrets: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'secrets',
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
  singular: 'secret',
  kind: 'Secret',
  namespaced: true,
  fieldSelectors: { type: (object) => stringAt(object, ['type']) },
  defaults(object) {
    if (typeof object.type !== 'string' || object.type === '') object.type = 'Opaque';
    // stringData is write-only: it is folded into data, as the real server does.
    if (isObject(object.stringData)) {
      const data = ensureObject(object, 'data');
      for (const [key, value] of Object.entries(object.stringData)) {
        if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
      }
    }
    delete object.stringData;
  },
  validate(object, old) {
    const errors: FieldError[] = [];
    validateDataKeys(object.data, 'data', errors, true);
    if (old !== undefined && old.type !== object.type) {
      errors.push({
        type: 'Invalid',
        field: 'type',
        value: object.type,
        detail: 'field is immutable',
      });
    }
    return errors;
  },
  table: {
    columns: [
      column('Name', 'Name of the secret'),
      column('Type', 'The type of the secret'),
      column('Data', 'Number of data entries', 0, 'integer'),
      column('Age', 'Time since the secret was created'),
    ],
    cells: (object, now) => [
      nameCell(object),
      stringAt(object, ['type']),
      isObject(object.data) ? Object.keys(object.data).length : 0,
      ageCell(object, now),
    ],
  },
});

export const configmaps: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  singular: 'configmap',
  kind: 'ConfigMap',
  namespaced: true,
  shortNames: ['cm'],
  validate(object) {
    const errors: FieldError[] = [];
    validateDataKeys(object.data, 'data', errors, false);
    validateDataKeys(object.binaryData, 'binaryData', errors, true);
    return errors;
  },
});
