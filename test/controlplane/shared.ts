// Test-side access to the control plane that global-setup.ts starts once per vitest run:
//
//   const cp = sharedControlPlane();          // in a test file
//   const ns = await cp.createNamespace('vps'); // a fresh namespace per test
//
// Tests that stop/restart the API server or need a pristine cluster start their own with
// startControlPlane() instead (about 3 s).
import { inject } from 'vitest';
import {
  type ControlPlaneClient,
  type ControlPlaneInfo,
  connectControlPlane,
} from '../../src/devcluster/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo | undefined;
  }
}

let client: ControlPlaneClient | undefined;

/** The run's shared control plane; throws if the vitest config did not wire global-setup.ts. */
export function sharedControlPlane(): ControlPlaneClient {
  if (client) return client;
  const info = inject('controlPlane');
  if (!info) {
    throw new Error(
      'no shared control plane: add test/controlplane/global-setup.ts to the vitest globalSetup of this project',
    );
  }
  client = connectControlPlane(info);
  return client;
}

/** Whether a shared control plane was provided to this test run. */
export function hasSharedControlPlane(): boolean {
  return inject('controlPlane') !== undefined;
}
