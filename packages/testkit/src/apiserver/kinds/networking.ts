/** networking.k8s.io/v1 Ingresses and IngressClasses, discovery.k8s.io/v1 EndpointSlices. */
import { ageCell, column, nameCell, resource, type ResourceDef } from '../resource';
import type { FieldError } from '../status';
import { isObject, stringAt, type Json, type JsonObject } from '../types';
import { integerIn, nameProblem, oneOf } from '../validation';

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];
const WILDCARD_HOST = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IP_LIKE = /^[0-9.]+$|:/;

function validateBackend(backend: Json | undefined, field: string, errors: FieldError[]): void {
  if (!isObject(backend)) {
    errors.push({ type: 'Required', field });
    return;
  }
  const service = backend.service;
  const hasResource = isObject(backend.resource);
  if (isObject(service) && hasResource) {
    errors.push({
      type: 'Invalid',
      field,
      value: '',
      detail: 'cannot set both resource and service backends',
    });
  }
  if (isObject(service)) {
    const name = service.name;
    if (typeof name !== 'string' || name === '')
      errors.push({ type: 'Required', field: `${field}.service.name` });
    else if (nameProblem(name, 'label1035') !== undefined) {
      errors.push({
        type: 'Invalid',
        field: `${field}.service.name`,
        value: name,
        detail: nameProblem(name, 'label1035'),
      });
    }
    const port = isObject(service.port) ? service.port : {};
    const hasName = typeof port.name === 'string' && port.name !== '';
    const hasNumber = port.number !== undefined && port.number !== null && port.number !== 0;
    if (hasName === hasNumber) {
      errors.push({
        type: 'Invalid',
        field: `${field}.service.port`,
        value: '',
        detail: 'port name or number is required, not both',
      });
    }
    if (hasNumber) integerIn(port.number, 1, 65535, `${field}.service.port.number`, errors);
  } else if (!hasResource) {
    errors.push({
      type: 'Invalid',
      field,
      value: '',
      detail: 'resource or service backend is required',
    });
  }
}

function validateIngress(object: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(object.spec) ? object.spec : {};
  const className = spec.ingressClassName;
  if (typeof className === 'string' && nameProblem(className, 'subdomain') !== undefined) {
    errors.push({
      type: 'Invalid',
      field: 'spec.ingressClassName',
      value: className,
      detail: nameProblem(className, 'subdomain'),
    });
  }
  if (spec.defaultBackend !== undefined && spec.defaultBackend !== null)
    validateBackend(spec.defaultBackend, 'spec.defaultBackend', errors);
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (!Array.isArray(spec.rules) && spec.defaultBackend === undefined) {
    errors.push({
      type: 'Invalid',
      field: 'spec',
      value: '',
      detail: 'either `defaultBackend` or `rules` must be specified',
    });
  }
  rules.forEach((rule, ruleIndex) => {
    const field = `spec.rules[${ruleIndex}]`;
    if (!isObject(rule)) return;
    const host = rule.host;
    if (typeof host === 'string' && host !== '') {
      if (IP_LIKE.test(host))
        errors.push({
          type: 'Invalid',
          field: `${field}.host`,
          value: host,
          detail: 'must be a DNS name, not an IP address',
        });
      else if (!WILDCARD_HOST.test(host) && nameProblem(host, 'subdomain') !== undefined) {
        errors.push({
          type: 'Invalid',
          field: `${field}.host`,
          value: host,
          detail: nameProblem(host, 'subdomain'),
        });
      }
    }
    if (!isObject(rule.http)) return;
    const paths = rule.http.paths;
    if (!Array.isArray(paths) || paths.length === 0) {
      errors.push({ type: 'Required', field: `${field}.http.paths` });
      return;
    }
    paths.forEach((path, pathIndex) => {
      const pathField = `${field}.http.paths[${pathIndex}]`;
      if (!isObject(path)) return;
      if (path.pathType === undefined || path.pathType === null)
        errors.push({
          type: 'Required',
          field: `${pathField}.pathType`,
          detail: 'pathType must be specified',
        });
      else oneOf(path.pathType, PATH_TYPES, `${pathField}.pathType`, errors);
      const value = path.path;
      if (
        (path.pathType === 'Exact' || path.pathType === 'Prefix') &&
        (typeof value !== 'string' || !value.startsWith('/'))
      ) {
        errors.push({
          type: 'Invalid',
          field: `${pathField}.path`,
          value: value ?? null,
          detail: 'must be an absolute path',
        });
      }
      validateBackend(path.backend, `${pathField}.backend`, errors);
    });
  });
  return errors;
}

function ingressHosts(spec: JsonObject): string {
  const hosts = (Array.isArray(spec.rules) ? spec.rules : [])
    .filter(isObject)
    .map((rule) => (typeof rule.host === 'string' && rule.host !== '' ? rule.host : '*'));
  return hosts.length === 0 ? '*' : hosts.join(',');
}

function loadBalancerAddresses(object: JsonObject): string {
  const ingress =
    isObject(object.status) && isObject(object.status.loadBalancer)
      ? object.status.loadBalancer.ingress
      : undefined;
  if (!Array.isArray(ingress)) return '';
  return ingress
    .filter(isObject)
    .map((entry) =>
      typeof entry.ip === 'string'
        ? entry.ip
        : typeof entry.hostname === 'string'
          ? entry.hostname
          : '',
    )
    .join(',');
}

export const ingresses: ResourceDef = resource({
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'ingresses',
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  singular: 'ingress',
  kind: 'Ingress',
  namespaced: true,
  shortNames: ['ing'],
  hasStatus: true,
  hasGeneration: true,
  defaults(object) {
    if (!isObject(object.status)) object.status = {};
    const status = object.status as JsonObject;
    if (!isObject(status.loadBalancer)) status.loadBalancer = {};
  },
  validate: validateIngress,
  table: {
    columns: [
      column('Name', 'Name of the ingress'),
      column('Class', 'The ingress class of the ingress'),
      column('Hosts', 'Hosts the ingress serves'),
      column('Address', 'Addresses of the load balancer'),
      column('Ports', 'Ports of the load balancer'),
      column('Age', 'Time since the ingress was created'),
    ],
    cells(object, now) {
      const spec = isObject(object.spec) ? object.spec : {};
      const tls = Array.isArray(spec.tls) && spec.tls.length > 0;
      return [
        nameCell(object),
        stringAt(spec, ['ingressClassName']) || '<none>',
        ingressHosts(spec),
        loadBalancerAddresses(object),
        tls ? '80, 443' : '80',
        ageCell(object, now),
      ];
    },
  },
});

export const ingressclasses: ResourceDef = resource({
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'ingressclasses',
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'spec'],
  singular: 'ingressclass',
  kind: 'IngressClass',
  namespaced: false,
  hasGeneration: true,
  validate(object) {
    const errors: FieldError[] = [];
    const controller = stringAt(object, ['spec', 'controller']);
    if (controller === '') errors.push({ type: 'Required', field: 'spec.controller' });
    else if (controller.length > 250)
      errors.push({
        type: 'TooLong',
        field: 'spec.controller',
        detail: 'may not be more than 250 characters',
      });
    return errors;
  },
  table: {
    columns: [
      column('Name', 'Name of the ingress class'),
      column('Controller', 'The controller that implements the class'),
      column('Parameters', 'Parameters of the class'),
      column('Age', 'Time since the class was created'),
    ],
    cells(object, now) {
      const parameters =
        isObject(object.spec) && isObject(object.spec.parameters)
          ? object.spec.parameters
          : undefined;
      return [
        nameCell(object),
        stringAt(object, ['spec', 'controller']),
        parameters === undefined
          ? '<none>'
          : `${stringAt(parameters, ['kind'])}/${stringAt(parameters, ['name'])}`,
        ageCell(object, now),
      ];
    },
  },
});

function validateEndpointSlice(object: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  if (object.addressType === undefined || object.addressType === null)
    errors.push({ type: 'Required', field: 'addressType' });
  else oneOf(object.addressType, ['IPv4', 'IPv6', 'FQDN'], 'addressType', errors);
  const endpoints = object.endpoints;
  if (endpoints !== undefined && endpoints !== null && !Array.isArray(endpoints)) {
    errors.push({
      type: 'Invalid',
      field: 'endpoints',
      value: endpoints,
      detail: 'must be a list',
    });
  }
  (Array.isArray(endpoints) ? endpoints : []).forEach((endpoint, index) => {
    const field = `endpoints[${index}]`;
    const addresses = isObject(endpoint) ? endpoint.addresses : undefined;
    if (!Array.isArray(addresses) || addresses.length === 0)
      errors.push({ type: 'Required', field: `${field}.addresses` });
    else if (addresses.length > 100)
      errors.push({
        type: 'Invalid',
        field: `${field}.addresses`,
        value: addresses.length,
        detail: 'must have at most 100 addresses',
      });
    else if (addresses.some((address) => typeof address !== 'string' || address === '')) {
      errors.push({
        type: 'Invalid',
        field: `${field}.addresses`,
        value: addresses,
        detail: 'must be non-empty strings',
      });
    }
  });
  (Array.isArray(object.ports) ? object.ports : []).forEach((port, index) => {
    if (!isObject(port)) return;
    if (port.port !== undefined && port.port !== null)
      integerIn(port.port, 1, 65535, `ports[${index}].port`, errors);
    oneOf(port.protocol, ['TCP', 'UDP', 'SCTP'], `ports[${index}].protocol`, errors);
  });
  return errors;
}

export const endpointslices: ResourceDef = resource({
  group: 'discovery.k8s.io',
  version: 'v1',
  plural: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  namespaced: true,
  hasGeneration: true,
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'addressType', 'endpoints', 'ports'],
  defaults(object) {
    for (const port of Array.isArray(object.ports) ? object.ports : []) {
      if (isObject(port) && typeof port.protocol !== 'string') port.protocol = 'TCP';
    }
  },
  validate: validateEndpointSlice,
  table: {
    columns: [
      column('Name', 'Name of the slice'),
      column('AddressType', 'Type of the addresses'),
      column('Ports', 'Ports of the slice'),
      column('Endpoints', 'Addresses of the slice'),
      column('Age', 'Time since the slice was created'),
    ],
    cells(object, now) {
      const ports = (Array.isArray(object.ports) ? object.ports : [])
        .filter(isObject)
        .map((port) => String(port.port ?? ''));
      const addresses = (Array.isArray(object.endpoints) ? object.endpoints : [])
        .filter(isObject)
        .flatMap((endpoint) => (Array.isArray(endpoint.addresses) ? endpoint.addresses : []))
        .map(String);
      const shown =
        addresses.length > 3
          ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...`
          : addresses.join(',');
      return [
        nameCell(object),
        stringAt(object, ['addressType']),
        ports.join(',') || '<unset>',
        shown || '<unset>',
        ageCell(object, now),
      ];
    },
  },
});
