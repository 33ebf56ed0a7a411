// The YAML configuration and option defaults: catalogue extension, and errors that name the field.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCatalogue } from '../../src/simulator/catalogue.ts';
import { loadConfigFile, parseConfig } from '../../src/simulator/config-file.ts';
import { resolveOptions } from '../../src/simulator/options.ts';

describe('buildCatalogue', () => {
  it('has the plans, OS images and locations of the docs by default', () => {
    const catalogue = buildCatalogue();
    expect(catalogue.plans.map((p) => [p.id, p.name, p.vcpus, p.memory, p.storage, p.bandwidth])).toEqual([
      [1, 'Standard VPS', 2, 4096, 80, 2048],
      [2, 'Performance VPS', 4, 8192, 160, 4096],
    ]);
    expect(catalogue.os).toEqual([
      { id: 3, name: 'Debian 12' },
      { id: 5, name: 'Ubuntu 22.04 LTS' },
    ]);
    expect(catalogue.locations).toEqual(['us-west', 'us-east']);
  });

  it('adds entries and replaces those with the same id', () => {
    const catalogue = buildCatalogue({
      plans: [{ id: 1, name: 'Cheap VPS', vcpus: 1, memory: 1024, storage: 20, bandwidth: 512, cost: 1 }],
      os: [{ id: 7, name: 'Rocky Linux 9' }],
      locations: ['eu-central', 'us-west'],
    });
    expect(catalogue.plans.map((p) => p.name)).toEqual(['Cheap VPS', 'Performance VPS']);
    expect(catalogue.os.map((o) => o.id)).toEqual([3, 5, 7]);
    expect(catalogue.locations).toEqual(['us-west', 'us-east', 'eu-central']);
  });
});

describe('config file', () => {
  it('reads every option from YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-config-'));
    const path = join(dir, 'sim.yaml');
    await writeFile(
      path,
      [
        'port: 9090',
        'timeScale: 60',
        'rateLimit: 10/s',
        'pageSize: 20',
        'inspect: true',
        'provisioningSeconds: {min: 1, max: 2}',
        'accounts:',
        '  - {name: alice, token: tok-a, credits: 50}',
        'catalogue:',
        '  locations: [eu-central]',
        'faults:',
        '  - {errorRate: 0.1, endpoints: [create]}',
      ].join('\n'),
    );
    expect(await loadConfigFile(path)).toEqual({
      port: 9090,
      timeScale: 60,
      rateLimit: { requests: 10, perMs: 1000 },
      pageSize: 20,
      inspect: true,
      provisioningSeconds: { min: 1, max: 2 },
      accounts: [{ name: 'alice', token: 'tok-a', credits: 50 }],
      catalogue: { locations: ['eu-central'] },
      faults: [{ errorRate: 0.1, endpoints: ['create'] }],
    });
  });

  it.each([
    [{ timeScale: 'fast' }, 'timeScale: expected a number'],
    [{ rateLimit: 'lots' }, 'rateLimit: expected a rate like 10/s, 600/m or 5/2s'],
    [{ accounts: [{ name: 'a', credits: 1 }] }, 'accounts[0].token: missing (expected a non-empty string)'],
    [
      { catalogue: { plans: [{ id: 3, name: 'x', vcpus: 0 }] } },
      'catalogue.plans[0].vcpus: expected an integer ≥ 1',
    ],
    [{ pagesize: 10 }, 'pagesize: expected one of the keys'],
  ])('rejects %j naming the field', (document, message) => {
    expect(() => parseConfig(document)).toThrow(message);
  });

  it('names the file when its YAML does not parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-config-'));
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'port: [1, 2\n');
    await expect(loadConfigFile(path)).rejects.toThrow(`${path}: expected valid YAML`);
  });
});

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      timeScale: 1,
      provisioningSeconds: { min: 120, max: 300 },
      transitionSeconds: { min: 10, max: 30 },
      rateLimit: null,
      pageSize: 100,
      faults: [],
      inspect: false,
      accounts: [{ name: 'default', token: 'sim-token', credits: 100_000 }],
    });
  });

  it.each([
    [{ timeScale: 0 }, 'timeScale'],
    [{ pageSize: 0 }, 'pageSize'],
    [{ transitionSeconds: { min: 5, max: 1 } }, 'transitionSeconds'],
    [{ rateLimit: 'sometimes' }, 'rateLimit'],
    [
      {
        accounts: [
          { name: 'a', token: 't', credits: 1 },
          { name: 'b', token: 't', credits: 1 },
        ],
      },
      'accounts',
    ],
  ])('rejects %j naming the option', (options, field) => {
    expect(() => resolveOptions(options)).toThrow(new RegExp(`^${field}`));
  });
});
