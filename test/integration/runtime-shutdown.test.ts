// The whole engine in a real process against a real API server: informer → queue → controller
// under a Manager run by runUntilSignalled. SIGTERM while a reconcile is in flight must let it
// finish (or abort it once the grace period is over) and end the process with exit code 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { sharedControlPlane } from '../controlplane/shared.ts';

const root = new URL('../../', import.meta.url).pathname;

/** The operator-shaped program under test; its reconcile takes RECONCILE_MS unless aborted. */
const program = `
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Controller } from './src/runtime/controller.ts';
import { enqueueKeys, Informer } from './src/runtime/informer.ts';
import { KubeListWatch } from './src/runtime/kube-list-watch.ts';
import { Manager } from './src/runtime/manager.ts';
import { done } from './src/runtime/reconciler.ts';
import { runUntilSignalled } from './src/runtime/signals.ts';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(process.env.TEST_KUBECONFIG);
const logger = pino({ level: 'info' });
const say = (msg, fields = {}) => process.stdout.write(JSON.stringify({ msg, ...fields }) + '\\n');
const informer = new Informer({
  listWatch: new KubeListWatch({ kubeConfig, path: '/api/v1/namespaces/' + process.env.TEST_NAMESPACE + '/configmaps' }),
  logger,
});
const controller = new Controller({
  name: 'slow',
  logger,
  reconciler: {
    async reconcile(key, signal) {
      say('reconcile start', { key });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Number(process.env.RECONCILE_MS));
        signal.addEventListener('abort', () => { clearTimeout(timer); say('reconcile aborted', { key }); resolve(); });
      });
      say('reconcile end', { key });
      return done();
    },
  },
});
informer.addEventHandler(enqueueKeys(controller.queue));
const manager = new Manager({ logger, gracefulShutdownMs: Number(process.env.GRACE_MS) })
  .addInformer(informer)
  .addController(controller);
process.exitCode = await runUntilSignalled(manager, { logger });
say('exiting', { code: process.exitCode });
`;

/** Starts the program and collects its stdout lines (JSON) as they come. */
function startOperator(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module-typescript', '-e', program], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: { msg?: string; key?: string }[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as { msg?: string };
    lines.push(parsed);
    for (const w of waiters.filter((w) => w.msg === parsed.msg)) w.resolve();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const seen = (msg: string) =>
    lines.some((l) => l.msg === msg)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ msg, resolve }));
  return { child, lines, exited, seen };
}

/** A namespace with one ConfigMap and the program watching it, its reconcile under way. */
async function operatorReconciling(name: string, timing: { reconcileMs: number; graceMs: number }) {
  const cp = sharedControlPlane();
  const namespace = await cp.createNamespace('shutdown');
  await cp.adminKubeConfig
    .makeApiClient(CoreV1Api)
    .createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
  const op = startOperator({
    TEST_KUBECONFIG: cp.adminKubeconfigPath,
    TEST_NAMESPACE: namespace,
    RECONCILE_MS: String(timing.reconcileMs),
    GRACE_MS: String(timing.graceMs),
  });
  await op.seen('reconcile start');
  return { ...op, key: `${namespace}/${name}` };
}

describe('graceful shutdown of a real operator process', () => {
  it('lets an in-flight reconcile finish on SIGTERM and exits 0', async () => {
    const op = await operatorReconciling('slow-one', { reconcileMs: 1500, graceMs: 20_000 });
    try {
      op.child.kill('SIGTERM');
      const [code] = await op.exited;
      expect(code).toBe(0);
      const reconcileLines = op.lines.filter((l) => l.msg?.startsWith('reconcile'));
      expect(reconcileLines.map((l) => l.msg)).toEqual(['reconcile start', 'reconcile end']);
      expect(reconcileLines[0]?.key).toBe(op.key);
    } finally {
      op.child.kill('SIGKILL');
    }
  });

  it('aborts a reconcile that outlasts the grace period and still exits 0', async () => {
    const op = await operatorReconciling('stuck', { reconcileMs: 600_000, graceMs: 500 });
    try {
      const signalledAt = Date.now();
      op.child.kill('SIGTERM');
      const [code] = await op.exited;
      expect(code).toBe(0);
      expect(op.lines.map((l) => l.msg)).toContain('reconcile aborted');
      expect(Date.now() - signalledAt).toBeLessThan(5000);
    } finally {
      op.child.kill('SIGKILL');
    }
  });
});
