// Every reason a user can meet in the README's troubleshooting table, produced by the code path
// that really produces it (a provider answer through the client's error and providerFailure(), a
// plan() decision, a Secret problem), then through report(): the message a user reads in Ready
// (and Stalled or Synced) leads with the field or object to fix and the fix. The README's table
// is the one rendered from reasons.ts, so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { secretProblemMessage } from '../../src/k8s/secrets.ts';
import { errorFromResponse, invalidResponse } from '../../src/vpsorg/errors.ts';
import { refusedAction } from '../../src/vpsserver/claims.ts';
import { staleObservationMessage, unauthorizedMessage } from '../../src/vpsserver/messages.ts';
import { parseNamespacePolicy, refusalMessage } from '../../src/vpsserver/namespace-policy.ts';
import type { ObservedServer } from '../../src/vpsserver/observed.ts';
import { type Action, plan } from '../../src/vpsserver/plan.ts';
import { providerFailure } from '../../src/vpsserver/provider.ts';
import { REASON_ROWS, reasonKind, troubleshootingTable } from '../../src/vpsserver/reasons.ts';
import { type ActOutcome, report } from '../../src/vpsserver/status.ts';
import {
  FINALIZER,
  PAUSED_ANNOTATION,
  type VpsServer,
  type VpsServerSpec,
} from '../../src/vpsserver/types.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const NOW = Date.parse('2026-12-02T17:00:00Z');

function vps(
  spec: Partial<VpsServerSpec> = {},
  status: VpsServer['status'] = {},
  annotations = {},
): VpsServer {
  return {
    apiVersion: 'vps.org/v1alpha1',
    kind: 'VpsServer',
    metadata: {
      name: 'web-01',
      namespace: 'shop',
      uid: 'uid-1',
      generation: 1,
      resourceVersion: '1',
      finalizers: [FINALIZER],
      annotations,
      labels: {},
    },
    spec: {
      planId: 1,
      osId: 5,
      location: 'us-west',
      backupsEnabled: false,
      powerState: 'Running',
      deletionPolicy: 'Delete',
      managementPolicy: 'Full',
      ...spec,
    },
    status,
  };
}

const server = (o: Partial<ObservedServer> = {}): ObservedServer => ({
  id: 12345,
  name: 'web-01',
  hostname: null,
  state: 'active',
  ipAddress: '203.0.113.10',
  location: 'us-west',
  plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
  os: { id: 5, name: 'Ubuntu 22.04 LTS' },
  createdAt: NOW - 1000,
  ...o,
});

const answer = (
  endpoint: 'create' | 'list' | 'patch',
  status: number,
  body: string,
  retryAfter: string | null = null,
) =>
  providerFailure(
    errorFromResponse(
      { endpoint, method: endpoint === 'list' ? 'GET' : endpoint === 'patch' ? 'PATCH' : 'POST' },
      { status, retryAfter, bodyText: body },
      NOW,
      [],
    ),
  );

const planned = (v: VpsServer, observed?: ObservedServer): Action =>
  plan({
    vps: v,
    credentials: { ok: true, version: 'v1' },
    observed: { snapshotAt: NOW, server: observed, candidates: [] },
  });

/** A pass whose outcome is a provider failure (a create, or the list it needed). */
const failed = (f: ReturnType<typeof providerFailure>) => ({
  action: { type: 'Create' } as unknown as Action,
  outcome: { ok: false, terminal: f.terminal, reason: f.reason, message: f.message } as ActOutcome,
});
const decided = (action: Action) => ({ action, outcome: { ok: true } as ActOutcome });
const credentials = (reason: 'CredentialsNotFound' | 'CredentialsInvalid', message: string) =>
  decided({ type: 'Stalled', reason, message });
const secret = { namespace: 'shop', name: 'vps-token', key: 'token' };

type Case = [string, ReturnType<typeof decided>, RegExp];

const cases: Case[] = [
  [
    'ProviderRejected',
    failed(answer('create', 400, '{"plan_id": ["Invalid pk \\"99\\" - object does not exist."]}')),
    /^fix spec\.planId: VPS\.org has no plan 99 \(VPS\.org create server: 400 Bad Request: plan_id: /,
  ],
  [
    'ProviderRejected',
    failed(
      answer(
        'create',
        400,
        '{"location": ["\\"mars\\" is not a valid choice."], "os_id": ["Invalid pk \\"77\\" - object does not exist."]}',
      ),
    ),
    /^fix spec\.location and spec\.osId: VPS\.org has no location "mars"; VPS\.org has no OS 77 \(/,
  ],
  [
    'ProviderRejected',
    failed(
      answer(
        'patch',
        400,
        '{"hostname": ["Enter a valid fully qualified domain name (FQDN), e.g. web01.example.com."]}',
      ),
    ),
    /^fix spec\.hostname: spec\.hostname: Enter a valid fully qualified domain name/,
  ],
  [
    'ProviderRejected',
    failed(answer('create', 400, '{"detail": "Bad request"}')),
    /^fix the spec \(VPS\.org named no field\): VPS\.org create server: 400 Bad Request: Bad request$/,
  ],
  [
    'InsufficientCredits',
    failed(answer('create', 402, '{"detail": "Insufficient credits"}')),
    /^add credits to the VPS\.org account, then change any spec field to retry: VPS\.org create server: 402 /,
  ],
  [
    'Unauthorized',
    failed(answer('list', 401, '{"detail": "Invalid token."}')),
    /^fix the API token in the credentials Secret: VPS\.org refused it \(VPS\.org list servers: 401 /,
  ],
  [
    'Unauthorized',
    (() => {
      const f = answer('list', 401, '{"detail": "Invalid token."}');
      return failed({ ...f, message: unauthorizedMessage(f.detail, 'Secret shop/vps-token (key "token")') });
    })(),
    /^fix the API token in Secret shop\/vps-token \(key "token"\): VPS\.org refused it/,
  ],
  [
    'CredentialsNotFound',
    credentials('CredentialsNotFound', secretProblemMessage({ ...secret, kind: 'missing' })),
    /^create Secret shop\/vps-token with the VPS\.org API token under key "token", or fix spec\.credentialsSecretRef: Secret shop\/vps-token not found$/,
  ],
  [
    'CredentialsNotFound',
    credentials('CredentialsNotFound', secretProblemMessage({ ...secret, kind: 'noKey', keys: ['apikey'] })),
    /^add key "token" to Secret shop\/vps-token, or set spec\.credentialsSecretRef\.key to one of its keys: .*\(it has: apikey\)$/,
  ],
  [
    'CredentialsNotFound',
    credentials('CredentialsNotFound', secretProblemMessage({ ...secret, kind: 'forbidden' })),
    /^grant the operator's ServiceAccount get on Secret shop\/vps-token \(RBAC, secrets get\): /,
  ],
  [
    'CredentialsInvalid',
    credentials('CredentialsInvalid', secretProblemMessage({ ...secret, kind: 'empty' })),
    /^put the VPS\.org API token in key "token" of Secret shop\/vps-token: /,
  ],
  [
    'AdoptionMismatch',
    decided(planned(vps({ serverId: 12345, planId: 2 }), server())),
    /^fix or unset spec\.planId to adopt server 12345: spec\.planId is 2 but the server has plan 1$/,
  ],
  [
    'ServerNotFound',
    decided(planned(vps({ serverId: 12345 }))),
    /^fix spec\.serverId or the credentials: server 12345 does not exist at VPS\.org/,
  ],
  [
    'ServerNotFound',
    decided(planned(vps({ serverId: 12345, managementPolicy: 'ObserveOnly' }, { serverId: 12345 }))),
    /^fix spec\.serverId or the credentials: server 12345 does not exist at VPS\.org/,
  ],
  [
    'ServerClaimed',
    decided(refusedAction(vps({ serverId: 12345 }), 12345, 'demo/web-01')),
    /^delete this VpsServer, or hand server 12345 over by deleting demo\/web-01 with deletionPolicy Orphan: server 12345 is managed by demo\/web-01; shop\/web-01 makes no change to it/,
  ],
  [
    'CredentialsNotAllowed',
    decided(
      plan({
        vps: vps(),
        credentials: {
          ok: false,
          reason: 'CredentialsNotAllowed',
          message: refusalMessage(
            'credentials',
            'shop',
            parseNamespacePolicy('demo,selector:tenant=trusted'),
          ),
        },
        observed: { snapshotAt: NOW, candidates: [] },
      }),
    ),
    /^set spec\.credentialsSecretRef to a Secret in namespace shop, or ask an admin to add shop to --default-credentials-namespaces .*: namespace shop may not use the operator's default VPS\.org credentials \(--default-credentials-namespaces is "demo,selector:tenant=trusted"\)$/,
  ],
  [
    'AdoptionNotAllowed',
    decided({
      type: 'Stalled',
      reason: 'AdoptionNotAllowed',
      message: refusalMessage('adoption', 'shop', parseNamespacePolicy('demo')),
    }),
    /^remove spec\.serverId to create a new server, or ask an admin to add shop to --adoption-namespaces .*: namespace shop may not adopt existing servers by spec\.serverId \(--adoption-namespaces is "demo"\)$/,
  ],
  [
    'Suspended',
    decided(planned(vps({}, { serverId: 12345 }), server({ state: 'suspended' }))),
    /^contact VPS\.org support to lift the suspension: VPS\.org suspended server 12345/,
  ],
  [
    'Paused',
    decided(
      planned(vps({}, { serverId: 12345 }, { [PAUSED_ANNOTATION]: 'true' }), server({ name: 'other' })),
    ),
    /^remove annotation vps\.org\/paused to resume: /,
  ],
  [
    'UnknownState',
    decided(planned(vps({}, { serverId: 12345 }), server({ state: 'migrating' }))),
    /^nothing to do, looking again in 30s; report state "migrating" .*: server 12345 is in state "migrating"/,
  ],
  [
    'ProviderUnavailable',
    failed(answer('create', 503, '')),
    /^nothing to do, retrying with backoff: VPS\.org create server: 503 Service Unavailable$/,
  ],
  [
    'RateLimited',
    failed(answer('create', 429, '{"detail": "slow down"}', '7')),
    /^nothing to do, retrying after VPS\.org's Retry-After of 7s: VPS\.org create server: 429 /,
  ],
  [
    'InvalidResponse',
    failed(providerFailure(invalidResponse({ endpoint: 'list', method: 'GET' }, 200, 'empty body', []))),
    /^nothing to do, retrying with backoff: VPS\.org list servers: 200 OK: invalid response/,
  ],
  [
    'NotFound',
    failed(answer('patch', 404, '{"detail": "Not found."}')),
    /^nothing to do, retrying with backoff: VPS\.org patch server: 404 /,
  ],
  [
    'StaleObservation',
    {
      action: { type: 'Stop', serverId: 12345 },
      outcome: {
        ok: false,
        terminal: false,
        reason: 'StaleObservation',
        message: staleObservationMessage(
          'VPS.org stop server 12345: 400 Bad Request: Server is already stopped',
        ),
      },
    },
    /^nothing to do, looking again: VPS\.org stop server 12345: 400 /,
  ],
];

describe("the README's troubleshooting table", () => {
  it('is the one reasons.ts renders', () => {
    expect(README).toContain(`## Troubleshooting by condition reason\n\n${troubleshootingTable()}\n`);
  });

  it('names each reason once', () => {
    const all = REASON_ROWS.flatMap((r) => r.reasons);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('every message that asks for a fix', () => {
  it.each(cases)('%s: leads with what to fix (%#)', (reason, pass, lead) => {
    const status = report({ vps: vps(), server: undefined, now: new Date(NOW).toISOString(), ...pass });
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.reason).toBe(reason);
    expect(ready?.message).toMatch(lead);
    const kind = reasonKind(reason);
    const carrier = kind === 'stalled' ? 'Stalled' : kind === 'retrying' ? 'Synced' : 'Reconciling';
    expect(status.conditions?.find((c) => c.type === carrier)).toMatchObject({
      reason,
      message: ready?.message,
    });
  });

  it('covers every reason of the table that is not Ready nor plain progress', () => {
    const covered = new Set(cases.map(([r]) => r));
    const needing = REASON_ROWS.filter((r) => r.kind === 'stalled' || r.kind === 'retrying').flatMap(
      (r) => r.reasons,
    );
    expect(needing.filter((r) => !covered.has(r))).toEqual([]);
  });
});
