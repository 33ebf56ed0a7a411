// The Deployment's V8 heap settings are what keeps the operator inside its memory limit at
// 10,000 resources, and the benchmarks read them from the same file: they must stay there.
import { describe, expect, it } from 'vitest';
import { deploymentNodeOptions } from '../../bench/deployment-node-options.ts';

describe('deploy/deployment.yaml NODE_OPTIONS', () => {
  it('caps the young generation and the old space of the operator container', async () => {
    const flags = (await deploymentNodeOptions()).split(' ');
    expect(flags).toContain('--max-semi-space-size=2');
    expect(flags.some((f) => /^--max-old-space-size=\d+$/.test(f))).toBe(true);
  });
});
