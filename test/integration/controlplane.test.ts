// Smoke tests of the local control plane (test/controlplane/): a real etcd + kube-apiserver +
// kubectl built from Go modules. This file starts its own control plane (it stops and restarts
// the API server, which a shared one must not see) and uses a test CRD of its own; the last
// test checks the run's shared control plane (global-setup.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  VersionApi,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  KUBERNETES_VERSION,
  kubectlPath,
  startControlPlane,
} from '../../src/devcluster/control-plane.ts';
import { sharedControlPlane } from '../controlplane/shared.ts';

const execFileAsync = promisify(execFile);

const group = 'smoke.test.vps.org';
const version = 'v1';
const plural = 'widgets';

const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer' }, color: { type: 'string' } },
                // The typed client's name for x-kubernetes-validations: its serializer drops the wire name
                // (and camelCase) silently, and the rule would never reach the API server.
                x_kubernetes_validations: [
                  { rule: 'self.size <= 10', message: 'size must be at most 10' },
                  {
                    rule: '!has(oldSelf.color) || self.color == oldSelf.color',
                    message: 'color is immutable',
                  },
                ],
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: { size: number; color?: string };
  status?: { phase?: string };
}

const widget = (name: string, size: number): Widget => ({
  apiVersion: `${group}/${version}`,
  kind: 'Widget',
  metadata: { name },
  spec: { size, color: 'blue' },
});

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

describe('the local control plane', () => {
  let cp: ControlPlane | undefined;
  let ns = '';
  let objects: CustomObjectsApi;

  const plane = (): ControlPlane => {
    if (!cp) throw new Error('control plane did not start');
    return cp;
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    objects = cp.adminKubeConfig.makeApiClient(CustomObjectsApi);
    ns = await cp.createNamespace('smoke');
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('starts and reports the pinned Kubernetes version', async () => {
    const info = await plane().adminKubeConfig.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(plane().startDurationMs).toBeGreaterThan(0);
  });

  it('applies a CRD with a status subresource and a CEL rule, which becomes Established', async () => {
    const ext = plane().adminKubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    const established = await eventually('the CRD to be Established', async () => {
      const got = await ext.readCustomResourceDefinition({ name: `${plural}.${group}` });
      return got.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True');
    });
    expect(established.type).toBe('Established');
    // Established can precede the discovery/handler being ready for a moment: wait for a list.
    await eventually('the new resource to be served', async () => {
      await objects.listNamespacedCustomObject({ group, version, namespace: ns, plural });
      return true;
    });
  });

  it('creates a custom object and patches its status through the /status subresource', async () => {
    await objects.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: widget('w1', 3),
    });
    const patched = (await objects.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        namespace: ns,
        plural,
        name: 'w1',
        body: { status: { phase: 'Ready' }, spec: { size: 9 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Widget;
    expect(patched.status?.phase).toBe('Ready');
    // the status subresource ignores spec changes, and the main resource ignores status
    expect(patched.spec.size).toBe(3);
    const replaced = (await objects.patchNamespacedCustomObject(
      { group, version, namespace: ns, plural, name: 'w1', body: { status: { phase: 'Hacked' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Widget;
    expect(replaced.status?.phase).toBe('Ready');
  });

  it('refuses an invalid object with the CEL rule message', async () => {
    const err = await objects
      .createNamespacedCustomObject({ group, version, namespace: ns, plural, body: widget('too-big', 11) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(httpStatus(err)).toBe(422);
    expect(String((err as { body?: unknown }).body)).toContain('size must be at most 10');

    const err2 = await objects
      .patchNamespacedCustomObject(
        { group, version, namespace: ns, plural, name: 'w1', body: { spec: { color: 'red' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(httpStatus(err2)).toBe(422);
    expect(String((err2 as { body?: unknown }).body)).toContain('color is immutable');
  });

  it('delivers the change to a watch', async () => {
    const kc = plane().adminKubeConfig;
    const current = (await objects.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      name: 'w1',
    })) as Widget;
    const seen: Array<{ type: string; obj: Widget }> = [];
    const controller = await new Watch(kc).watch(
      `/apis/${group}/${version}/namespaces/${ns}/${plural}`,
      { resourceVersion: current.metadata.resourceVersion },
      (type: string, obj: Widget) => {
        seen.push({ type, obj });
      },
      () => {},
    );
    try {
      await objects.patchNamespacedCustomObject(
        { group, version, namespace: ns, plural, name: 'w1', body: { spec: { size: 5 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const event = await eventually('a MODIFIED event', async () =>
        seen.find((e) => e.type === 'MODIFIED' && e.obj.spec.size === 5),
      );
      expect(event.obj.metadata.name).toBe('w1');
    } finally {
      controller.abort();
    }
  });

  it('refuses a restricted identity where RBAC says so and allows it where a Role grants', async () => {
    const cpl = plane();
    const alice = await cpl.kubeconfigFor({ user: 'alice', groups: ['widget-readers'] });
    const aliceObjects = alice.kubeConfig.makeApiClient(CustomObjectsApi);
    const list = (namespace: string): Promise<unknown> =>
      aliceObjects.listNamespacedCustomObject({ group, version, namespace, plural });

    await expect(list(ns)).rejects.toMatchObject({ code: 403 });

    const rbac = cpl.adminKubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'widget-reader' },
        rules: [{ apiGroups: [group], resources: [plural], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'widget-readers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'widget-reader' },
        subjects: [
          { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'widget-readers' },
          { kind: 'ServiceAccount', name: 'reader', namespace: ns },
        ],
      },
    });

    // RBAC is read from the API server's informer: allow a moment for the binding to arrive.
    await eventually('alice to be allowed to list', async () => (await list(ns)) ?? undefined);
    // ... only there, and only reading
    const other = await cpl.createNamespace('smoke-other');
    await expect(list(other)).rejects.toMatchObject({ code: 403 });
    await expect(
      aliceObjects.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural,
        body: widget('by-alice', 1),
      }),
    ).rejects.toMatchObject({ code: 403 });

    // the same through a ServiceAccount token (TokenRequest)
    const sa = await cpl.kubeconfigForServiceAccount(ns, 'reader');
    const saObjects = sa.kubeConfig.makeApiClient(CustomObjectsApi);
    const got = (await saObjects.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      name: 'w1',
    })) as Widget;
    expect(got.metadata.name).toBe('w1');
    await expect(
      saObjects.listNamespacedCustomObject({ group, version, namespace: other, plural }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('keeps the data across a restart of the API server and an etcd compaction', async () => {
    const cpl = plane();
    const revision = await cpl.compactEtcd();
    expect(revision).toBeGreaterThan(0);

    await cpl.stopApiServer();
    await expect(
      objects.getNamespacedCustomObject({ group, version, namespace: ns, plural, name: 'w1' }),
    ).rejects.toThrow();
    await cpl.startApiServer();

    // a fresh KubeConfig proves nothing was cached client-side
    const kc = new KubeConfig();
    kc.loadFromFile(cpl.adminKubeconfigPath);
    const got = (await kc
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group, version, namespace: ns, plural, name: 'w1' })) as Widget;
    expect(got.spec.size).toBe(5);
    expect(got.status?.phase).toBe('Ready');
  });

  it('lets the built kubectl get, explain and wait for the custom object with the admin kubeconfig', async () => {
    const kubectl = (...args: string[]): Promise<{ stdout: string }> =>
      execFileAsync(kubectlPath(), ['--kubeconfig', plane().adminKubeconfigPath, ...args]);

    const { stdout: table } = await kubectl('get', `${plural}.${group}`, '-n', ns);
    expect(table).toMatch(/NAME\s+SIZE\s+PHASE/);
    expect(table).toMatch(/w1\s+5\s+Ready/);

    const { stdout: json } = await kubectl('get', 'widget', 'w1', '-n', ns, '-o', 'json');
    expect((JSON.parse(json) as Widget).status?.phase).toBe('Ready');

    // what the demo and user-facing tests rely on: the CRD's OpenAPI is published, waits work
    const { stdout: explain } = await kubectl('explain', `${plural}.${group}.spec`);
    expect(explain).toMatch(/size\s+<integer> -required-/);
    await kubectl('wait', '-n', ns, '--for=jsonpath={.status.phase}=Ready', '--timeout=10s', 'widget/w1');

    const { stdout: ver } = await kubectl('version', '-o', 'json');
    const versions = JSON.parse(ver) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(versions.clientVersion.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(versions.serverVersion.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
  });
});

describe('the shared control plane of the test run', () => {
  it('gives each test a fresh namespace and client-certificate identities', async () => {
    const cp = sharedControlPlane();
    const [a, b] = [await cp.createNamespace('shared'), await cp.createNamespace('shared')];
    expect(a).not.toBe(b);
    const core = cp.adminKubeConfig.makeApiClient(CoreV1Api);
    expect((await core.readNamespace({ name: a })).status?.phase).toBe('Active');
    const nobody = await cp.kubeconfigFor({ user: 'nobody' });
    await expect(nobody.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: a })).rejects.toMatchObject(
      {
        code: 403,
      },
    );
  });
});
