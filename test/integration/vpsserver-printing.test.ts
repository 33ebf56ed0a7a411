// What `kubectl get vps`, `-o wide` and `kubectl describe` print for a Ready, a Provisioning and
// a Stalled resource, with the kubectl built with the control plane: the default columns say
// why a resource is not ready, -o wide adds the message that says what to fix, and describe
// shows one Event per write and one Warning for the refusal. The simulator's clock runs at real
// speed here so a server stays provisioning for minutes; the Ready one is finished by hand.
// VPS_PRINT_KUBECTL=1 prints the output (for issue notes and the README).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlPath } from '../../src/devcluster/control-plane.ts';
import { condition, type OperatorEnv, startEnv } from '../support/operator-env.ts';

const run = promisify(execFile);
const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
let env: OperatorEnv;
const kubectl = async (...args: string[]) =>
  (
    await run(
      kubectlPath(),
      ['--kubeconfig', env.cp.adminKubeconfigPath, '--cache-dir', cacheDir, '-n', env.namespace, ...args],
      { timeout: 30_000 },
    )
  ).stdout;
const print = (title: string, text: string) => {
  if (process.env.VPS_PRINT_KUBECTL === '1') console.log(`$ ${title}\n${text}`);
};

beforeAll(async () => {
  env = await startEnv({ simulator: { timeScale: 1 } });
  await env.create('web-ready', { hostname: 'web.example.com' });
  await env.waitFor('web-ready', (o) => o?.status?.serverId !== undefined, 'a server id');
  env.sim.state.finishTransitions();
  await env.waitReady('web-ready');
  await env.create('web-provisioning');
  await env.waitFor(
    'web-provisioning',
    (o) => condition(o, 'Ready')?.reason === 'Provisioning',
    'Provisioning',
  );
  await env.create('web-stalled', { planId: 99 });
  await env.waitFor('web-stalled', (o) => condition(o, 'Stalled')?.status === 'True', 'Stalled');
}, 120_000);
afterAll(async () => {
  await env?.stop();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** The row of `name` split on runs of 2+ spaces, as kubectl pads its columns. */
const row = (out: string, name: string) =>
  out
    .split('\n')
    .find((l) => l.startsWith(`${name} `))
    ?.split(/\s{2,}/);

describe('kubectl get vps', () => {
  it('shows the server, its state, IP, Ready and why, without flags', async () => {
    const out = await kubectl('get', 'vps');
    print('kubectl get vps', out);
    const [header] = out.split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'SERVER ID', 'STATE', 'IP', 'READY', 'REASON']);
    expect(row(out, 'web-ready')).toEqual([
      'web-ready',
      expect.stringMatching(/^\d+$/),
      'active',
      expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
      'True',
      'Available',
    ]);
    expect(row(out, 'web-provisioning')).toEqual([
      'web-provisioning',
      expect.stringMatching(/^\d+$/),
      'provisioning',
      'False',
      'Provisioning',
    ]);
    expect(row(out, 'web-stalled')).toEqual(['web-stalled', 'False', 'ProviderRejected']);
  });

  it('-o wide adds the location, what to do (Ready message) and the age', async () => {
    const out = await kubectl('get', 'vps', '-o', 'wide');
    print('kubectl get vps -o wide', out);
    expect(out.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'SERVER ID',
      'STATE',
      'IP',
      'READY',
      'REASON',
      'LOCATION',
      'MESSAGE',
      'AGE',
    ]);
    expect(row(out, 'web-stalled')?.slice(1)).toEqual([
      'False',
      'ProviderRejected',
      'us-west',
      expect.stringMatching(/^fix spec\.planId: VPS\.org has no plan 99 \(VPS\.org create server: 400 /),
      expect.stringMatching(/^\d+s$/),
    ]);
    expect(row(out, 'web-provisioning')).toContain(
      `Server ${(await env.get('web-provisioning'))?.status?.serverId} is provisioning`,
    );
  });
});

describe('kubectl describe vps', () => {
  it('shows the conditions and one Event per write for a Ready resource', async () => {
    const out = await kubectl('describe', 'vps', 'web-ready');
    print('kubectl describe vps web-ready', out);
    expect(out).toMatch(
      /Normal\s+ServerCreated\s+\S+\s+vps-operator\s+Created server \d+ \(web-ready\) in us-west/,
    );
    expect(out).not.toMatch(/Warning/);
  });

  it('shows a provisioning resource as Reconciling', async () => {
    const out = await kubectl('describe', 'vps', 'web-provisioning');
    print('kubectl describe vps web-provisioning', out);
    expect(out).toMatch(/Reason:\s+Provisioning/);
    expect(out).toMatch(/Type:\s+Reconciling/);
  });

  it('shows one Warning for one refused create, leading with the fix', async () => {
    // Passes that re-read the remembered refusal must not add to it.
    for (let i = 0; i < 3; i++)
      await env.patch('web-stalled', { metadata: { annotations: { poke: String(i) } } });
    await new Promise((r) => setTimeout(r, 1_000));
    const out = await kubectl('describe', 'vps', 'web-stalled');
    print('kubectl describe vps web-stalled', out);
    const warnings = out.split('\n').filter((l) => /^\s+Warning\s/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /Warning\s+ProviderRejected\s+\S+\s+vps-operator\s+fix spec\.planId: VPS\.org has no plan 99/,
    );
    expect(warnings[0]).not.toMatch(/\(x\d+ over/);
    expect(env.sim.state.stats().byEndpointStatus.create?.['400']).toBe(1);
  });
});
