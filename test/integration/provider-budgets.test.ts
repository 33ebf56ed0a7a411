// Provider budgets end to end (real API server, simulator over HTTP): an operator whose rate is
// above the provider's real limit still converges (AIMD and a paged list resumed from the page
// that failed), and a credentials Secret can give its account a rate of its own.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { condition, type OperatorEnv, startEnv, TOKEN } from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

describe('provider budgets', () => {
  it('converges against a provider whose limit is below --api-rate, with long paged lists (the livelock of issue 17)', async () => {
    // 5 calls/s with a burst of 5, 2 servers per page: listing 15 servers takes 8 pages; at
    // 20/s every list drew a 429 on some page and started again at page 1, and nothing became Ready.
    env = await startEnv({
      simulator: { rateLimit: '5/s', pageSize: 2 },
      operatorArgs: ['--api-rate', '20/s'],
    });
    const names = Array.from({ length: 15 }, (_, i) => `livelock-${i}`);
    await Promise.all(names.map((n) => env.create(n)));
    await Promise.all(names.map((n) => env.waitReady(n, 120_000)));
    const stats = env.sim.state.stats();
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.retryAfterViolations).toBe(0);
  }, 180_000);

  it('refuses a credentials Secret whose vps.org/api-rate annotation is not a rate, naming the annotation', async () => {
    env = await startEnv();
    const core = env.admin.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: env.namespace,
      body: {
        metadata: { name: 'fast-token', annotations: { 'vps.org/api-rate': 'fast' } },
        stringData: { token: TOKEN },
      },
    });
    await env.create('annotated', { credentialsSecretRef: { name: 'fast-token' } });
    const o = await env.waitFor(
      'annotated',
      (x) => condition(x, 'Stalled')?.status === 'True',
      'Stalled=True',
    );
    expect(condition(o, 'Stalled')).toMatchObject({ reason: 'CredentialsInvalid' });
    expect(condition(o, 'Stalled')?.message).toContain('annotation vps.org/api-rate "fast": expected a rate');
  });
});
