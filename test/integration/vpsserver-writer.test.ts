// The one VpsServer writer against the real API server: a write based on a resourceVersion the
// object has moved past is refused with 409 and changes nothing, on the object and on its
// /status subresource alike, so a writer that did not see status.serverId or the create-pending
// marker can never remove them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConflict } from '../../src/k8s/errors.ts';
import { EventRecorder } from '../../src/k8s/events.ts';
import { CustomResourceWriter } from '../../src/k8s/vpsservers.ts';
import { kubeRequest } from '../../src/runtime/kube-request.ts';
import { CREATE_PENDING_ANNOTATION, GROUP, PLURAL, VERSION } from '../../src/vpsserver/types.ts';
import { type OperatorEnv, startEnv, type VpsObject } from '../support/operator-env.ts';

let env: OperatorEnv;
let writer: CustomResourceWriter;
beforeAll(async () => {
  env = await startEnv({ noOperator: true });
  writer = new CustomResourceWriter(env.admin, { group: GROUP, version: VERSION, plural: PLURAL });
});
afterAll(async () => {
  await env?.stop();
});

const meta = (o: VpsObject) => ({
  namespace: env.namespace,
  name: o.metadata?.name ?? '',
  resourceVersion: o.metadata?.resourceVersion ?? '',
});

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('the write was accepted');
}

describe('the VpsServer writer', () => {
  it('refuses a status write based on a stale resourceVersion with 409, keeping status.serverId', async () => {
    const stale = await env.create('w-status');
    // Another writer (the new leader) records the server.
    await writer.patchStatus(meta(stale), {}, { serverId: 20022, state: 'active' });
    // The old view had no serverId: its status, written as it saw it, would drop the field.
    const err = await rejection(
      writer.patchStatus(meta(stale), { state: 'new' }, { state: 'new', conditions: [] }),
    );
    expect(isConflict(err)).toBe(true);
    const now = await env.get('w-status');
    expect(now?.status?.serverId).toBe(20022);
    expect(now?.status?.state).toBe('active');
  });

  it('refuses a stale status write that would null a field it saw, keeping the newer value', async () => {
    const first = await env.create('w-null');
    const seen = (await writer.patchStatus(meta(first), {}, { serverId: 1 })) as VpsObject;
    await writer.patchStatus(meta(seen), { serverId: 1 }, { serverId: 2 });
    const err = await rejection(writer.patchStatus(meta(seen), { serverId: 1 }, {}));
    expect(isConflict(err)).toBe(true);
    expect((await env.get('w-null'))?.status?.serverId).toBe(2);
  });

  it('accepts a status write based on the current resourceVersion', async () => {
    const o = await env.create('w-fresh');
    const updated = (await writer.patchStatus(meta(o), {}, { serverId: 7 })) as VpsObject;
    expect(updated.status?.serverId).toBe(7);
    expect(updated.metadata?.resourceVersion).not.toBe(o.metadata?.resourceVersion);
  });

  it('refuses a stale metadata write with 409, keeping the create-pending marker', async () => {
    const stale = await env.create('w-marker');
    await writer.patchMetadata(meta(stale), { annotations: { [CREATE_PENDING_ANNOTATION]: 'x' } });
    const err = await rejection(
      writer.patchMetadata(meta(stale), { annotations: { [CREATE_PENDING_ANNOTATION]: null } }),
    );
    expect(isConflict(err)).toBe(true);
    expect((await env.get('w-marker'))?.metadata?.annotations?.[CREATE_PENDING_ANNOTATION]).toBe('x');
  });

  it('refuses to send a write that has no resourceVersion to base it on', async () => {
    const o = await env.create('w-unconditional');
    const err = await rejection(writer.patchStatus({ ...meta(o), resourceVersion: '' }, {}, { serverId: 3 }));
    expect(String(err)).toMatch(/unconditional write.*resourceVersion/);
    expect((await env.get('w-unconditional'))?.status?.serverId).toBeUndefined();
  });

  it('sends nothing when the lease guard refuses', async () => {
    const o = await env.create('w-guard');
    const guarded = new CustomResourceWriter(
      env.admin,
      { group: GROUP, version: VERSION, plural: PLURAL },
      {
        beforeWrite: () => {
          throw new Error('lease lost');
        },
      },
    );
    expect(String(await rejection(guarded.patchStatus(meta(o), {}, { serverId: 4 })))).toMatch(/lease lost/);
    expect((await env.get('w-guard'))?.status?.serverId).toBeUndefined();
  });

  it('asks the guard after credentials are applied, so a lease lost during that await sends nothing', async () => {
    const o = await env.create('w-late-guard');
    // The last await before the bytes go out is applying credentials (an exec or OIDC plugin
    // can take seconds); the process is paused there and the lease expires meanwhile.
    const kc = Object.create(env.admin) as typeof env.admin;
    let fresh = true;
    const order: string[] = [];
    kc.applySecurityAuthentication = async (context) => {
      await env.admin.applySecurityAuthentication(context);
      await new Promise((r) => setTimeout(r, 20));
      order.push('credentials applied');
      fresh = false;
    };
    const guarded = new CustomResourceWriter(
      kc,
      { group: GROUP, version: VERSION, plural: PLURAL },
      {
        beforeWrite: () => {
          order.push('guard asked');
          if (!fresh) throw new Error('lease lost');
        },
      },
    );
    expect(String(await rejection(guarded.patchStatus(meta(o), {}, { serverId: 5 })))).toMatch(/lease lost/);
    expect(order).toEqual(['credentials applied', 'guard asked']);
    const now = await env.get('w-late-guard');
    expect(now?.status?.serverId).toBeUndefined();
    expect(now?.metadata?.resourceVersion).toBe(o.metadata?.resourceVersion);
  });

  it('records no Event when the lease guard refuses', async () => {
    const o = await env.create('w-event');
    const errors: unknown[] = [];
    const events = new EventRecorder(env.admin, {
      beforeWrite: () => {
        throw new Error('lease lost');
      },
      onError: (err) => errors.push(err),
    });
    const target = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VpsServer',
      metadata: { name: 'w-event', namespace: env.namespace, uid: o.metadata?.uid ?? '' },
    };
    await events.record({ target, type: 'Normal', reason: 'Probe', message: 'a stale leader speaking' });
    expect(String(errors[0])).toMatch(/lease lost/);
    const list = await kubeRequest<{ items: unknown[] }>(env.admin, {
      method: 'GET',
      path: `/api/v1/namespaces/${env.namespace}/events`,
      query: { fieldSelector: 'involvedObject.name=w-event' },
    });
    expect(list.items).toEqual([]);
  });

  it('asks the guard again when the connection is about to write the request, and sends nothing if it refuses then', async () => {
    const o = await env.create('w-dispatch-guard');
    let asked = 0;
    const guarded = new CustomResourceWriter(
      env.admin,
      { group: GROUP, version: VERSION, plural: PLURAL },
      {
        beforeWrite: () => {
          asked++;
          if (asked > 1) throw new Error('lease lost before the first byte');
        },
      },
    );
    const err = await rejection(guarded.patchStatus(meta(o), {}, { serverId: 6 }));
    expect(String(err)).toMatch(/lease lost before the first byte/);
    expect(asked).toBe(2);
    expect((await env.get('w-dispatch-guard'))?.metadata?.resourceVersion).toBe(o.metadata?.resourceVersion);
  });
});
