// Test runner configuration: unit tests run in parallel; integration tests share one real
// control plane per run (see test/controlplane/) and get a fresh namespace each.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
