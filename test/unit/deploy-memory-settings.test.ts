// The Deployment's V8 heap and malloc settings are what keeps the operator inside its memory limit at
// 10,000 resources, and the benchmarks read them from the same file: they must stay there.
import { describe, expect, it } from 'vitest';
import { deploymentEnv } from '../../bench/deployment-env.ts';

describe('deploy/deployment.yaml memory settings', () => {
  it('caps the young generation and the old space of the operator container', async () => {
    const flags = ((await deploymentEnv()).NODE_OPTIONS ?? '').split(' ');
    expect(flags).toContain('--max-semi-space-size=2');
    expect(flags.some((f) => /^--max-old-space-size=\d+$/.test(f))).toBe(true);
  });

  it('limits glibc to two malloc arenas', async () => {
    expect((await deploymentEnv()).MALLOC_ARENA_MAX).toBe('2');
  });
});
