// The CRD as the real API server enforces it: invalid manifests are refused with a message
// naming the field, defaults are applied, and kubectl (built from the same Kubernetes release)
// explains every field and prints the documented columns.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlPath } from '../../src/devcluster/control-plane.ts';
import { type OperatorEnv, startEnv } from '../support/operator-env.ts';

const run = promisify(execFile);
let env: OperatorEnv;
beforeAll(async () => {
  env = await startEnv({ noOperator: true });
});
afterAll(async () => {
  await env?.stop();
  rmSync(cacheDir, { recursive: true, force: true });
});

/**
 * Runs the built kubectl with a cache dir of its own: a discovery cache filled before the CRD
 * existed (e.g. by `kubectl apply` of the CRD itself) would not know the short name `vps`.
 */
const kubectl = async (...args: string[]) =>
  (
    await run(kubectlPath(), ['--kubeconfig', env.cp.adminKubeconfigPath, '--cache-dir', cacheDir, ...args], {
      timeout: 30_000,
    })
  ).stdout;
const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));

/** The API server's message for a refused create (or '' if it was accepted). */
async function refusal(
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
  name = `x${Math.random().toString(36).slice(2, 8)}`,
): Promise<string> {
  try {
    await env.create(name, spec, metadata);
    return '';
  } catch (err) {
    return String((err as { body?: unknown }).body ?? err);
  }
}

describe('the API server refuses', () => {
  it.each([
    ['a name with an underscore', { name: 'web_01' }, 'spec.name'],
    ['a hostname that is not a FQDN', { hostname: 'not a host' }, 'spec.hostname'],
    ['a plan id of 0', { planId: 0 }, 'spec.planId'],
    ['an unknown powerState', { powerState: 'Paused' }, 'spec.powerState: Unsupported value'],
    ['an unknown deletionPolicy', { deletionPolicy: 'Keep' }, 'spec.deletionPolicy'],
    [
      'ObserveOnly without a serverId',
      { managementPolicy: 'ObserveOnly' },
      'spec.serverId is required when spec.managementPolicy is ObserveOnly',
    ],
    [
      'a spec without planId, osId and location',
      { planId: undefined, osId: undefined, location: undefined },
      'spec.planId, spec.osId and spec.location are required',
    ],
  ])('%s', async (_, spec, message) => {
    expect(await refusal(spec)).toContain(message);
  });

  it('a metadata.name that is not a provider name when spec.name is unset', async () => {
    expect(await refusal({}, {}, 'web.example')).toContain(
      'spec.name is required when metadata.name is not a valid VPS.org server name',
    );
  });

  it.each([
    ['planId', { planId: 2 }, 'spec.planId is immutable'],
    ['osId', { osId: 3 }, 'spec.osId is immutable'],
    ['location', { location: 'us-east' }, 'spec.location is immutable'],
    ['sshKeyId', { sshKeyId: 9 }, 'spec.sshKeyId is immutable'],
  ])('a change of %s after creation', async (_, change, message) => {
    const name = `imm-${Object.keys(change)[0]?.toLowerCase()}`;
    await env.create(name);
    await expect(env.patch(name, { spec: change })).rejects.toSatisfy((err: { body?: unknown }) =>
      String(err.body).includes(message),
    );
  });

  it('a change of serverId once set', async () => {
    await env.create('adopted', { serverId: 5 });
    await expect(env.patch('adopted', { spec: { serverId: 6 } })).rejects.toSatisfy(
      (err: { body?: unknown }) =>
        String(err.body).includes('spec.serverId cannot be changed or removed once set'),
    );
  });
});

describe('the API server accepts and defaults', () => {
  it('applies the documented defaults', async () => {
    const o = await env.create('defaults');
    expect(o.spec).toMatchObject({
      powerState: 'Running',
      deletionPolicy: 'Delete',
      managementPolicy: 'Full',
      backupsEnabled: false,
    });
  });

  it('lets mutable fields change', async () => {
    await env.create('mutable');
    const o = await env.patch('mutable', {
      spec: { name: 'mutable-2', hostname: 'm.example.com', powerState: 'Stopped', backupsEnabled: true },
    });
    expect(o.spec).toMatchObject({ name: 'mutable-2', powerState: 'Stopped' });
  });
});

describe('kubectl', () => {
  it('explains every spec field', async () => {
    const out = await kubectl('explain', 'vps.spec');
    for (const field of [
      'planId',
      'osId',
      'location',
      'powerState',
      'rebootRequestedAt',
      'deletionPolicy',
      'managementPolicy',
      'serverId',
      'credentialsSecretRef',
    ]) {
      expect(out).toContain(field);
    }
    expect(out).toContain('Immutable');
  });

  it('lists VpsServers by short name with the documented columns', async () => {
    await env.create('listed');
    const out = await kubectl('get', 'vps', '-n', env.namespace);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+SERVER ID\s+STATE\s+IP\s+READY\s+REASON$/);
    const wide = await kubectl('get', 'vps', '-n', env.namespace, '-o', 'wide');
    expect(wide.split('\n')[0]).toMatch(
      /^NAME\s+SERVER ID\s+STATE\s+IP\s+READY\s+REASON\s+LOCATION\s+MESSAGE\s+AGE$/,
    );
  });
});
