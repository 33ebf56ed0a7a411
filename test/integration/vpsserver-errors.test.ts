// What the user sees when something is wrong: provider refusals and bad credentials end in a
// Stalled condition carrying the provider's message (and are not retried until something
// changes); a lost create response still ends with exactly one server.
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../src/simulator/faults.ts';
import { condition, isReady, type OperatorEnv, startEnv } from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stalled = (name: string) =>
  env.waitFor(name, (o) => condition(o, 'Stalled')?.status === 'True', 'Stalled=True');

describe('provider refusals', () => {
  it('stalls with the provider message when credits run out (402), and does not retry', async () => {
    env = await startEnv();
    env.sim.state.setCredits('team', 0);
    await env.create('poor');
    const o = await stalled('poor');
    expect(condition(o, 'Stalled')?.reason).toBe('InsufficientCredits');
    expect(condition(o, 'Stalled')?.message).toMatch(/402/);
    expect(condition(o, 'Ready')?.status).toBe('False');
    const creates = env.sim.state.stats().calls.create;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(env.sim.state.stats().calls.create).toBe(creates);
    expect(
      (await env.events('poor')).some((e) => e.type === 'Warning' && e.reason === 'InsufficientCredits'),
    ).toBe(true);
  });

  it('retries a refused create once the spec changes', async () => {
    env = await startEnv();
    env.sim.state.setCredits('team', 0);
    await env.create('later');
    await stalled('later');
    env.sim.state.setCredits('team', 1_000);
    await env.patch('later', { spec: { backupsEnabled: true } });
    await env.waitReady('later');
  });

  it('stalls with the field error when VPS.org rejects the spec (400)', async () => {
    env = await startEnv();
    await env.create('badplan', { planId: 99 });
    const o = await stalled('badplan');
    expect(condition(o, 'Stalled')?.reason).toBe('ProviderRejected');
    expect(condition(o, 'Stalled')?.message).toMatch(/400.*plan_id/);
  });
});

describe('credentials', () => {
  it('stalls naming the Secret when it does not exist', async () => {
    env = await startEnv();
    await env.create('nosecret', { credentialsSecretRef: { name: 'missing' } });
    const o = await stalled('nosecret');
    expect(condition(o, 'Stalled')).toMatchObject({ reason: 'CredentialsNotFound' });
    expect(condition(o, 'Stalled')?.message).toContain(`Secret ${env.namespace}/missing not found`);
  });

  it('stalls naming the key when the Secret lacks it', async () => {
    env = await startEnv();
    await env.createSecret('other', { apikey: 'x' });
    await env.create('nokey', { credentialsSecretRef: { name: 'other', key: 'token' } });
    const o = await stalled('nokey');
    expect(condition(o, 'Stalled')?.message).toContain('has no key "token" (it has: apikey)');
  });

  it('stalls as Unauthorized on a wrong token, and recovers when the Secret is fixed', async () => {
    env = await startEnv();
    await env.createSecret('wrong', { token: 'not-the-token' });
    await env.create('unauth', { credentialsSecretRef: { name: 'wrong' } });
    const o = await stalled('unauth');
    expect(condition(o, 'Stalled')?.reason).toBe('Unauthorized');
    expect(condition(o, 'Stalled')?.message).toMatch(/401/);
    expect(JSON.stringify(o)).not.toContain('not-the-token');
    await env.createSecret('right', { token: 'sim-token-7f3a9c2e41b84d55' });
    await env.patch('unauth', { spec: { credentialsSecretRef: { name: 'right' } } });
    await env.waitReady('unauth');
  });
});

describe('lost responses', () => {
  it('ends with exactly one server when every create response is lost', async () => {
    env = await startEnv({ simulator: { faults: { lostResponseRate: 1, endpoints: ['create'] } } });
    await env.create('lost');
    const o = await env.waitFor('lost', (x) => x?.status?.serverId !== undefined, 'a server id');
    env.sim.state.setFaults(null);
    await env.waitReady('lost');
    const made = env.sim.state.servers().filter((s) => s.name === 'lost');
    expect(made).toHaveLength(1);
    expect(o?.status?.serverId).toBe(made[0]?.id);
    expect(env.sim.state.stats().lostResponses).toBeGreaterThanOrEqual(1);
    expect((await env.events('lost')).map((e) => e.reason)).toContain('ServerAdopted');
  });

  it('gives two resources with the same server name one server each when their create responses are lost', async () => {
    env = await startEnv({ simulator: { faults: { lostResponseRate: 1, endpoints: ['create'] } } });
    await Promise.all([env.create('twin-a', { name: 'twin' }), env.create('twin-b', { name: 'twin' })]);
    const ids = new Set<number>();
    for (const n of ['twin-a', 'twin-b']) {
      const o = await env.waitFor(n, (x) => x?.status?.serverId !== undefined, 'a server id');
      ids.add(o?.status?.serverId as number);
    }
    expect(ids.size).toBe(2);
    expect(env.sim.state.servers().filter((s) => s.name === 'twin')).toHaveLength(2);
  });

  it('looks again instead of stalling when a stop whose answer was lost is refused as already done', async () => {
    env = await startEnv();
    await env.create('halt');
    await env.waitReady('halt');
    // The stop acts but its answer is lost, and no list shows the new state before the retry.
    const blind: FaultRule = { errorRate: 1, errorStatuses: [503], endpoints: ['list', 'get'] };
    env.sim.state.setFaults([{ lostResponseRate: 1, endpoints: ['stop'] }, blind]);
    await env.patch('halt', { spec: { powerState: 'Stopped' } });
    const stops = () => env.sim.state.stats().byEndpointStatus.stop ?? {};
    await until(() => env.sim.state.writes().some((w) => w.endpoint === 'stop'));
    env.sim.state.setFaults(blind);
    await until(() => (stops()['400'] ?? 0) >= 1);
    env.sim.state.setFaults(null);
    const o = await env.waitFor(
      'halt',
      (x) => isReady(x) && x?.status?.state === 'stopped',
      'Ready and stopped',
    );
    expect(condition(o, 'Stalled')?.status).not.toBe('True');
    expect(env.sim.state.writes().filter((w) => w.endpoint === 'stop')).toHaveLength(1);
  });

  it('says why it cannot finish a lost create while the server list keeps failing, then adopts', async () => {
    env = await startEnv();
    // The account is listed once, so later passes plan on a snapshot that failing lists freeze.
    await env.create('before');
    await env.waitReady('before');
    const blind: FaultRule = { errorRate: 1, errorStatuses: [503], endpoints: ['list'] };
    env.sim.state.setFaults([{ lostResponseRate: 1, endpoints: ['create'] }, blind]);
    await env.create('unproven');
    const o = await env.waitFor(
      'unproven',
      (x) =>
        condition(x, 'Synced')?.message.startsWith(
          'nothing to do, retrying with backoff: VPS.org list servers: 503',
        ) ?? false,
      'Synced naming the failing list',
    );
    expect(condition(o, 'Synced')).toMatchObject({ status: 'False', reason: 'ProviderUnavailable' });
    expect(condition(o, 'Stalled')?.status).toBe('False');
    env.sim.state.setFaults(null);
    await env.waitReady('unproven');
    expect(env.sim.state.servers().filter((s) => s.name === 'unproven')).toHaveLength(1);
  });

  it('converges with exactly one server per resource under 30% injected faults', async () => {
    env = await startEnv({
      simulator: { faults: { errorRate: 0.15, dropRate: 0.05, lostResponseRate: 0.1 }, seed: 7 },
    });
    const names = ['f1', 'f2', 'f3', 'f4', 'f5'];
    for (const n of names) await env.create(n);
    for (const n of names) await env.waitReady(n, 60_000);
    for (const n of names) expect(env.sim.state.servers().filter((s) => s.name === n)).toHaveLength(1);
    expect(env.sim.state.stats().retryAfterViolations).toBe(0);
  });
});

describe('readiness for tools', () => {
  it('sets observedGeneration with every status so kstatus can tell a fresh status from a stale one', async () => {
    env = await startEnv();
    await env.create('gen');
    await env.waitReady('gen');
    const patched = await env.patch('gen', { spec: { hostname: 'gen.example.com' } });
    const o = await env.waitFor(
      'gen',
      (x) => isReady(x) && x?.status?.observedGeneration === patched.metadata?.generation,
      'new generation observed',
    );
    expect(o?.status?.observedGeneration).toBe(2);
  });
});
