// vitest globalSetup: one real control plane for the whole run (started in ~3 s), handed to
// the test files through provide/inject (see shared.ts); each test makes its own namespace.
// Wire it into the vitest project(s) that hold integration tests only, so `vitest run
// test/unit` does not start it (vitest runs a project's globalSetup only when that project
// has test files to run).
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../../src/devcluster/control-plane.ts';
// The ProvidedContext type for 'controlPlane' is declared in shared.ts.

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane();
  project.provide('controlPlane', cp.info);
  process.stderr.write(
    `control plane: Kubernetes v${cp.info.kubernetesVersion} at ${cp.info.server}, ready in ${cp.startDurationMs} ms\n`,
  );
  return async () => {
    await cp.stop();
  };
}
