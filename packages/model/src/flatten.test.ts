import { describe, expect, it } from '@jest/globals';
import { assemble } from './assemble';
import type { FieldSetting } from './fragment';
import { flattenPolicy } from './flatten';
import type { PolicyField } from './fields';
import type { PersistencePolicy } from './policy';

const source = { dialect: 'tether' as const, kind: 'Test', namespace: 'ns', name: 'n', field: 'f' };

describe('flattenPolicy', () => {
  it('is undone by assemble for a full cookie policy', () => {
    const policy: PersistencePolicy = {
      mode: 'cookie',
      cookie: {
        name: 'sid',
        path: '/app',
        domain: 'example.com',
        maxAgeSeconds: 600,
        httpOnly: true,
        secure: 'https',
        sameSite: 'Lax',
        omitSameSiteNoneForOldClients: false,
        lifetime: 'permanent',
        nocache: true,
      },
      rebalance: 'balanced',
      onFailure: 'retryElsewhere',
      absoluteTimeoutSeconds: 3600,
    };
    const flat = flattenPolicy(
      policy,
      { algorithm: 'ewma' },
      { sslRedirect: true, canary: { weight: 10 } },
    );
    expect(flat['cookie.path']).toBe('/app');
    expect(flat['route.canary.weight']).toBe(10);
    const values = Object.fromEntries(
      Object.entries(flat).map(([k, v]) => [k, { value: v, source } as FieldSetting]),
    ) as Partial<Record<PolicyField, FieldSetting>>;
    const { result } = assemble(values);
    expect(result).toEqual({
      policy,
      loadBalancing: { algorithm: 'ewma' },
      route: { sslRedirect: true, canary: { weight: 10 } },
    });
  });
});
