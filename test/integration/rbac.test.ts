// deploy/rbac.yaml grants exactly what the operator uses: each permission below is exercised by
// the scenario tests (which run the operator under this RBAC), so removing any rule fails here
// and there; and what the operator must never do is denied.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type OperatorEnv, startEnv } from '../support/operator-env.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startEnv({ noOperator: true });
  return () => env.stop();
});

const SA = 'system:serviceaccount:vps-operator-system:vps-operator';

async function allowed(
  verb: string,
  resource: string,
  opts: { group?: string; subresource?: string; namespace?: string } = {},
) {
  const api = env.admin.makeApiClient(AuthorizationV1Api);
  const review = await api.createSubjectAccessReview({
    body: {
      spec: {
        user: SA,
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:vps-operator-system',
          'system:authenticated',
        ],
        resourceAttributes: {
          verb,
          resource,
          group: opts.group ?? '',
          subresource: opts.subresource ?? '',
          namespace: opts.namespace ?? env.namespace,
        },
      },
    },
  });
  return review.status?.allowed === true;
}

describe('the operator ServiceAccount', () => {
  it.each([
    ['list', 'vpsservers', { group: 'vps.org' }],
    ['watch', 'vpsservers', { group: 'vps.org' }],
    ['patch', 'vpsservers', { group: 'vps.org' }],
    ['patch', 'vpsservers', { group: 'vps.org', subresource: 'status' }],
    ['create', 'events', {}],
    ['patch', 'events', {}],
    ['get', 'secrets', {}],
    ['get', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['create', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['update', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['list', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['watch', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['patch', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
    ['delete', 'leases', { group: 'coordination.k8s.io', namespace: 'vps-operator-system' }],
  ])('may %s %s %j', async (verb, resource, opts) => {
    expect(await allowed(verb, resource, opts)).toBe(true);
  });

  it.each([
    ['list', 'secrets', {}],
    ['watch', 'secrets', {}],
    ['delete', 'vpsservers', { group: 'vps.org' }],
    ['create', 'vpsservers', { group: 'vps.org' }],
    ['update', 'leases', { group: 'coordination.k8s.io', namespace: 'default' }],
    ['list', 'leases', { group: 'coordination.k8s.io', namespace: 'default' }],
    ['create', 'pods', {}],
    ['delete', 'events', {}],
  ])('may not %s %s %j', async (verb, resource, opts) => {
    expect(await allowed(verb, resource, opts)).toBe(false);
  });
});
