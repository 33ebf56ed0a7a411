// The operator as users run it: `vps-operator run` as a child process with the ServiceAccount's
// kubeconfig. Start-up validation, probes and metrics over HTTP, graceful SIGTERM, leader
// election between two replicas with the leader killed, and the one-command demo.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type OperatorEnv, startEnv, TOKEN, testOperatorFlags } from '../support/operator-env.ts';
import { reapOperatorProcesses, startOperatorProcess as start } from '../support/operator-process.ts';

afterEach(reapOperatorProcesses);

describe('vps-operator run: start-up validation', () => {
  it.each([
    [['--workers', '0'], 'invalid --workers "0": expected a whole number from 1 to 256'],
    [['--api-rate', 'lots'], 'invalid --api-rate "lots"'],
    [['--kubeconfig', '/nonexistent/kubeconfig'], 'cannot load Kubernetes credentials'],
  ])('exits 2 naming the problem for %j', async (args, message) => {
    const p = start(['run', ...args]);
    expect(await p.exited).toBe(2);
    expect(p.lines.join('\n')).toContain(message);
  });

  it('prints help with every flag', async () => {
    const p = start(['run', '--help']);
    expect(await p.exited).toBe(0);
    expect(p.lines.join('\n')).toContain('--leader-elect');
  });
});

describe('vps-operator run against a cluster', () => {
  let env: OperatorEnv;
  let kubeconfig: string;
  beforeAll(async () => {
    env = await startEnv({ noOperator: true });
    kubeconfig = (await env.cp.kubeconfigForServiceAccount('vps-operator-system', 'vps-operator')).path;
  });
  afterAll(async () => {
    await env?.stop();
  });

  const operatorArgs = (extra: string[] = []) => [
    'run',
    '--kubeconfig',
    kubeconfig,
    ...testOperatorFlags(env.namespace, env.sim.apiBaseUrl),
    // Real ports (picked by the OS), so the test can scrape them.
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    ...extra,
  ];

  it('serves probes and metrics, reconciles, and stops with exit 0 on SIGTERM', async () => {
    const p = start(operatorArgs());
    const metricsPort = (await p.logged('serving /metrics')).port as number;
    const healthPort = (await p.logged('serving /healthz')).port as number;
    await p.logged('caches synced');
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    await env.create('proc-1');
    await env.waitReady('proc-1');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="vpsserver",result="requeue_after"\} [1-9]/,
    );
    expect(metrics).toMatch(/vps_provider_calls_total\{endpoint="create",code="201"\} 1/);
    expect(metrics).toMatch(/vps_servers\{state="active"\} 1/);
    expect(metrics).toMatch(/vps_operator_leader 1/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.join('\n')).not.toContain(TOKEN);
  });

  it('hands over to the standby within the lease when the leader is killed, without duplicates', async () => {
    const args = operatorArgs([
      '--leader-elect',
      '--leader-election-namespace',
      'vps-operator-system',
      '--leader-election-id',
      `vps-${env.namespace}`,
      '--lease-duration',
      '3s',
    ]);
    const a = start(args);
    await a.logged('became leader');
    const b = start(args);
    await b.logged('standing by');
    await env.create('ha-1');
    await env.waitReady('ha-1');
    a.child.kill('SIGKILL');
    await env.create('ha-2');
    const took = Date.now();
    await b.logged('became leader', 20_000);
    expect(Date.now() - took).toBeLessThan(10_000);
    await env.waitFor('ha-2', isReady, 'Ready after take-over');
    for (const name of ['ha-1', 'ha-2'])
      expect(env.sim.state.servers().filter((s) => s.name === name)).toHaveLength(1);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.lines.join('\n')).toContain('released the lease');
  });
});

describe('vps-operator dev', () => {
  it('brings every sample to Ready and exits 0 with --exit-when-ready', async () => {
    const p = start(['dev', '--exit-when-ready', '--time-scale', '600', '--timeout', '90s']);
    expect(await p.exited).toBe(0);
    const out = p.lines.join('\n');
    expect(out).toContain('All samples are Ready.');
    for (const name of ['web-01', 'batch-01', 'legacy-db', 'observed-01']) expect(out).toContain(name);
  }, 150_000);
});
