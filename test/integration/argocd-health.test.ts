// The Argo CD health check of VpsServer (deploy/argocd/resource_customizations/vps.org/VpsServer)
// run by gopher-lua, the interpreter Argo CD embeds (test/tools/luahealth): its test cases in
// Argo CD's layout, the same script as the chart and the argocd-cm snippet ship, and the status it
// gives to objects the operator writes right now, in each state. The committed testdata/ are
// such objects: UPDATE_HEALTH_TESTDATA=1 on this file rewrites them from the live run.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { condition, type OperatorEnv, startEnv, type VpsObject } from '../support/operator-env.ts';
import { ensureTool } from '../support/tools.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url);
const CHECK_DIR = new URL('deploy/argocd/resource_customizations/vps.org/VpsServer/', REPO);
const read = (rel: string) => readFile(new URL(rel, REPO), 'utf8');

interface HealthTest {
  tests: { inputPath: string; healthStatus: { status: string; message: string } }[];
}

let luahealth: string;
beforeAll(async () => {
  luahealth = await ensureTool('luahealth');
}, 600_000);

async function runChecks(dir: string): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run(luahealth, [dir], { timeout: 60_000 });
    return { ok: true, out: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the Argo CD health check', () => {
  it('passes its test cases in resource_customizations layout under gopher-lua', async () => {
    const { ok, out } = await runChecks(CHECK_DIR.pathname);
    expect(out, out).toMatch(/ passed, 0 failed/);
    expect(ok).toBe(true);
  });

  it('covers Healthy, Progressing, Degraded and Suspended', async () => {
    const spec = parse(await readFile(new URL('health_test.yaml', CHECK_DIR), 'utf8')) as HealthTest;
    const statuses = new Set(spec.tests.map((t) => t.healthStatus.status));
    expect([...statuses].sort()).toEqual(['Degraded', 'Healthy', 'Progressing', 'Suspended']);
  });

  it('is the same script in the chart, in the argocd-cm snippet and in resource_customizations', async () => {
    const script = await read('deploy/argocd/resource_customizations/vps.org/VpsServer/health.lua');
    expect(await read('charts/vps-operator/files/argocd/health.lua')).toBe(script);
    const cm = parse(await read('deploy/argocd/argocd-cm.yaml')) as { data: Record<string, string> };
    expect(cm.data['resource.customizations.health.vps.org_VpsServer']).toBe(script);
  });

  it('fails a case whose expected status is wrong (the runner can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'luahealth-'));
    try {
      await writeFile(join(dir, 'health.lua'), await readFile(new URL('health.lua', CHECK_DIR), 'utf8'));
      await writeFile(
        join(dir, 'obj.yaml'),
        stringify({ apiVersion: 'vps.org/v1alpha1', kind: 'VpsServer' }),
      );
      await writeFile(
        join(dir, 'health_test.yaml'),
        stringify({ tests: [{ inputPath: 'obj.yaml', healthStatus: { status: 'Healthy', message: '' } }] }),
      );
      const { ok, out } = await runChecks(dir);
      expect(ok).toBe(false);
      expect(out).toMatch(/FAIL obj\.yaml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The objects as `kubectl get -o yaml` shows them, minus what changes on every run.
function clean(o: VpsObject | undefined): VpsObject {
  if (o === undefined) throw new Error('the object is gone');
  const { managedFields: _m, uid: _u, resourceVersion: _r, ...metadata } = o.metadata ?? {};
  return { ...o, metadata: { ...metadata, namespace: 'shop' } };
}

describe('the Argo CD health of live objects', () => {
  let env: OperatorEnv | undefined;
  let slow: OperatorEnv | undefined;
  afterAll(async () => {
    await env?.stop();
    await slow?.stop();
  });

  it('gives each state the operator writes the status its test case expects', async () => {
    const live = new Map<string, VpsObject | undefined>();
    // A provider at real speed: a create stays provisioning long enough to be seen.
    slow = await startEnv({ simulator: { timeScale: 1 } });
    await slow.create('web-02');
    live.set(
      'progressing.yaml',
      await slow.waitFor(
        'web-02',
        (o) => condition(o, 'Ready')?.reason === 'Provisioning',
        'Ready=False Provisioning',
      ),
    );
    await slow.stop();
    slow = undefined;

    env = await startEnv();
    const e = env;
    await e.create('web-01', { hostname: 'web01.example.com' });
    await e.create('batch-01', { powerState: 'Stopped' });
    await e.create('legacy-db', {}, { annotations: { 'vps.org/paused': 'true' } });
    live.set('healthy.yaml', await e.waitReady('web-01'));
    live.set('healthy-stopped.yaml', await e.waitReady('batch-01'));
    live.set(
      'suspended-paused.yaml',
      await e.waitFor('legacy-db', (o) => condition(o, 'Ready')?.reason === 'Paused', 'Paused'),
    );
    await e.create('shop-db');
    const { status } = await e.waitReady('shop-db');
    e.sim.state.suspend(status?.serverId as number);
    live.set(
      'suspended.yaml',
      await e.waitFor('shop-db', (o) => condition(o, 'Ready')?.reason === 'Suspended', 'Suspended'),
    );
    e.sim.state.setCredits('team', 0);
    await e.create('big-01');
    live.set(
      'degraded.yaml',
      await e.waitFor('big-01', (o) => condition(o, 'Stalled')?.status === 'True', 'Stalled=True'),
    );

    const expected = parse(await readFile(new URL('health_test.yaml', CHECK_DIR), 'utf8')) as HealthTest;
    const dir = await mkdtemp(join(tmpdir(), 'luahealth-live-'));
    try {
      await writeFile(join(dir, 'health.lua'), await readFile(new URL('health.lua', CHECK_DIR), 'utf8'));
      const tests = [];
      for (const [file, o] of live) {
        const want = expected.tests.find((t) => t.inputPath === `testdata/${file}`);
        expect(want, `health_test.yaml has a case for testdata/${file}`).toBeDefined();
        const text = stringify(clean(o));
        await writeFile(join(dir, file), text);
        if (process.env.UPDATE_HEALTH_TESTDATA === '1')
          await writeFile(new URL(`testdata/${file}`, CHECK_DIR), text);
        // Messages name server ids and times of this run: the status must match, the message be said.
        tests.push({ inputPath: file, healthStatus: { status: want?.healthStatus.status, message: '*' } });
      }
      await writeFile(join(dir, 'health_test.yaml'), stringify({ tests }));
      const { ok, out } = await runChecks(dir);
      expect(out, out).toMatch(/6 passed, 0 failed/);
      expect(ok).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
