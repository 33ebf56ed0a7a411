// Test runner configuration. Two projects: `unit` (pure logic, no processes) and
// `integration` (real kube-apiserver + etcd shared per run via test/controlplane/global-setup.ts,
// the simulator over real HTTP; each test makes its own namespace). `vitest run test/unit` starts
// no control plane.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/chaos/**/*.test.ts', 'bench/**/*.test.ts'],
          globalSetup: ['test/controlplane/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // 2 cores: integration files start real processes; two at a time keeps them honest.
          maxWorkers: 2,
        },
      },
      // deploy/ as pods on a one-node cluster (test/e2e, `make e2e`): minutes long and root-only,
      // so only when asked for, never in a plain `vitest run`.
      ...(process.env.VPS_E2E === '1'
        ? [
            {
              extends: true as const,
              test: {
                name: 'e2e',
                include: ['test/e2e/**/*.test.ts'],
                testTimeout: 600_000,
                hookTimeout: 600_000,
                maxWorkers: 1,
              },
            },
          ]
        : []),
    ],
  },
});
