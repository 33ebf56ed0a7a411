// What the user sees when something is wrong: provider refusals and bad credentials end in a
// Stalled condition carrying the provider's message (and are not retried until something
// changes); a lost create response still ends with exactly one server.
import { afterEach, describe, expect, it } from 'vitest';
import { condition, isReady, type OperatorEnv, startEnv } from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

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
