/** coordination.k8s.io/v1 Leases, as client-go's leader election uses them. */
import { ageCell, column, nameCell, resource, type ResourceDef } from '../resource';
import type { FieldError } from '../status';
import { normalizeTime, parseTime } from '../time';
import { isObject, stringAt } from '../types';
import { integerIn } from '../validation';

export const leases: ResourceDef = resource({
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  singular: 'lease',
  kind: 'Lease',
  namespaced: true,
  topLevelFields: ['apiVersion', 'kind', 'metadata', 'spec'],
  defaults(object) {
    const spec = object.spec;
    if (!isObject(spec)) return;
    for (const key of ['acquireTime', 'renewTime']) {
      if (spec[key] !== undefined) spec[key] = normalizeTime(spec[key], true);
    }
  },
  validate(object) {
    const errors: FieldError[] = [];
    const spec = isObject(object.spec) ? object.spec : {};
    integerIn(spec.leaseDurationSeconds, 1, 2 ** 31 - 1, 'spec.leaseDurationSeconds', errors);
    integerIn(spec.leaseTransitions, 0, 2 ** 31 - 1, 'spec.leaseTransitions', errors);
    for (const key of ['acquireTime', 'renewTime']) {
      const value = spec[key];
      if (value !== undefined && value !== null && parseTime(value) === undefined) {
        errors.push({
          type: 'Invalid',
          field: `spec.${key}`,
          value,
          detail: 'must be an RFC 3339 time',
        });
      }
    }
    return errors;
  },
  table: {
    columns: [
      column('Name', 'Name of the lease'),
      column('Holder', 'The identity that holds the lease'),
      column('Age', 'Time since the lease was created'),
    ],
    cells: (object, now) => [
      nameCell(object),
      stringAt(object, ['spec', 'holderIdentity']),
      ageCell(object, now),
    ],
  },
});
