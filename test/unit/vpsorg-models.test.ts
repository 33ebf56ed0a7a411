// Decoders read the provider's samples into camelCase models and refuse anything else with the
// path of the bad value; encoders send only the fields given, in snake_case.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/checks.ts';
import {
  decodeCreatedServer,
  decodePowerActionResult,
  decodeServerDetail,
  decodeServerListPage,
  decodeServerSummary,
  decodeUpdatedServer,
  toWireCreateRequest,
  toWirePatchRequest,
  toWireUpdateRequest,
} from '../../src/vpsorg/models.ts';
import {
  CREATE_REQUEST_EXAMPLE,
  LIST_EXAMPLE,
  PATCH_REQUEST_EXAMPLE,
  PUT_REQUEST_EXAMPLE,
  REBOOT_EXAMPLE,
  STOP_EXAMPLE,
} from '../fixtures/seed-examples.ts';
import { created, detail, listItem, started } from '../fixtures/vpsorg-wire.ts';

describe('decoding the samples of the docs', () => {
  it('reads a list item', () => {
    expect(decodeServerSummary(listItem())).toEqual({
      id: 12345,
      name: 'web-server-01',
      hostname: 'web01.example.com',
      status: 'active',
      ipAddress: '203.0.113.10',
      location: 'us-west',
      plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
      os: { id: 5, name: 'Ubuntu 22.04 LTS' },
      createdAt: '2025-01-10T14:30:00Z',
      updatedAt: '2025-01-15T10:20:00Z',
    });
  });

  it('reads a detail with ipv6, bandwidth, backups and resource usage', () => {
    expect(decodeServerDetail(detail())).toMatchObject({
      ipv6Address: '2001:0db8::1',
      plan: { bandwidth: 2048 },
      backupsEnabled: true,
      resourceUsage: { cpuPercent: 23.5, memoryUsed: 2048, diskUsed: 35, bandwidthUsed: 450 },
      updatedAt: '2025-01-16T15:45:00Z',
    });
  });

  it('reads the 201 of a create with its null address and message', () => {
    expect(decodeCreatedServer(created())).toMatchObject({
      id: 12347,
      status: 'provisioning',
      ipAddress: null,
      backupsEnabled: true,
      message: 'Server is being provisioned. This may take 2-5 minutes.',
    });
  });

  it('reads a power action envelope', () => {
    expect(decodePowerActionResult(started())).toEqual({
      status: 'success',
      message: 'Server is starting',
      server: { id: 12345, name: 'web-server-01', status: 'starting' },
    });
  });

  it('reads the whole list example, both servers', () => {
    const page = decodeServerListPage(LIST_EXAMPLE);
    expect(page).toMatchObject({ count: 2, next: null });
    expect(page.results.map((s) => [s.id, s.location, s.plan.name, s.os.name])).toEqual([
      [12345, 'us-west', 'Standard VPS', 'Ubuntu 22.04 LTS'],
      [12346, 'us-east', 'Performance VPS', 'Debian 12'],
    ]);
  });

  it.each([
    ['stop', STOP_EXAMPLE, 'stopping'],
    ['reboot', REBOOT_EXAMPLE, 'rebooting'],
  ])('reads the %s example', (_, example, status) => {
    expect(decodePowerActionResult(example).server.status).toBe(status);
  });

  it('reads a list page with and without next', () => {
    expect(decodeServerListPage({ count: 1, results: [listItem()] })).toMatchObject({ count: 1, next: null });
    expect(decodeServerListPage({ count: 9, next: '/api/v1/servers/?page=2', results: [] }).next).toBe(
      '/api/v1/servers/?page=2',
    );
  });
});

describe('what decoders tolerate', () => {
  it('keeps a state the docs do not name, verbatim', () => {
    expect(decodeServerSummary(listItem({ status: 'migrating' })).status).toBe('migrating');
  });

  it('ignores fields the contract does not have', () => {
    expect(decodeServerSummary({ ...listItem(), tags: ['x'], region: 'eu' })).not.toHaveProperty('tags');
  });

  it('reads an absent nullable field as null', () => {
    const { hostname: _, ...noHostname } = listItem();
    expect(decodeServerSummary(noHostname).hostname).toBeNull();
  });

  it('reads of a PUT/PATCH answer only the id and the fields present', () => {
    expect(decodeUpdatedServer({ id: 7, name: 'b', backups_enabled: false, extra: 1 })).toEqual({
      id: 7,
      name: 'b',
      backupsEnabled: false,
    });
    expect(decodeUpdatedServer(detail())).toEqual({
      id: 12345,
      name: 'web-server-01',
      hostname: 'web01.example.com',
      backupsEnabled: true,
      status: 'active',
      updatedAt: '2025-01-16T15:45:00Z',
    });
  });
});

describe('what decoders refuse, naming the path', () => {
  const without = (key: string) => Object.fromEntries(Object.entries(listItem()).filter(([k]) => k !== key));
  it.each([
    ['a body that is not an object', () => decodeServerSummary([1]), 'body: expected an object, got [1]'],
    ['null', () => decodeServerDetail(null), 'body: expected an object, got null'],
    ['a missing id', () => decodeServerSummary(without('id')), 'id: missing (expected an id (integer ≥ 1))'],
    [
      'an id as a string',
      () => decodeServerSummary(listItem({ id: '12345' as never })),
      'id: expected an id (integer ≥ 1), got "12345"',
    ],
    [
      'a fractional id',
      () => decodeServerSummary(listItem({ id: 1.5 })),
      'id: expected an id (integer ≥ 1), got 1.5',
    ],
    ['a missing status', () => decodeServerSummary(without('status')), 'status: missing (expected a string)'],
    [
      'a status that is not a string',
      () => decodeServerSummary(listItem({ status: 3 as never })),
      'status: expected a string, got 3',
    ],
    [
      'an address that is a number',
      () => decodeServerSummary(listItem({ ip_address: 1 as never })),
      'ip_address: expected a string or null, got 1',
    ],
    [
      'a plan that is an id',
      () => decodeServerSummary(listItem({ plan: 1 as never })),
      'plan: expected an object, got 1',
    ],
    [
      'vcpus as a string',
      () =>
        decodeServerSummary(
          listItem({ plan: { id: 1, name: 'S', vcpus: '2' as never, memory: 1, storage: 1 } }),
        ),
      'plan.vcpus: expected an integer, got "2"',
    ],
    [
      'a date that is not a date',
      () => decodeServerSummary(listItem({ created_at: 'yesterday' })),
      'created_at: expected an ISO-8601 timestamp, got "yesterday"',
    ],
    [
      'a detail without resource usage',
      () => decodeServerDetail({ ...detail(), resource_usage: undefined }),
      'resource_usage: missing (expected an object)',
    ],
    [
      'a detail with backups as a string',
      () => decodeServerDetail({ ...detail(), backups_enabled: 'yes' }),
      'backups_enabled: expected true or false, got "yes"',
    ],
    [
      'a create answer without its message',
      () => decodeCreatedServer({ ...created(), message: undefined }),
      'message: missing (expected a string)',
    ],
    [
      'a power answer without the server',
      () => decodePowerActionResult({ status: 'success', message: 'x' }),
      'server: missing (expected an object)',
    ],
    [
      'a list item deep in the page',
      () =>
        decodeServerListPage({
          count: 2,
          results: [listItem(), { ...listItem(), os: { id: 'x', name: 'y' } }],
        }),
      'results[1].os.id: expected an id (integer ≥ 1), got "x"',
    ],
    [
      'a page without results',
      () => decodeServerListPage({ count: 0 }),
      'results: missing (expected an array)',
    ],
    [
      'a negative count',
      () => decodeServerListPage({ count: -1, results: [] }),
      'count: expected a number ≥ 0, got -1',
    ],
    [
      'an update answer without an id',
      () => decodeUpdatedServer({ name: 'x' }),
      'id: missing (expected an id (integer ≥ 1))',
    ],
    [
      'a long wrong value, shortened',
      () => decodeServerSummary(listItem({ name: 'x'.repeat(100) as never, id: 'y'.repeat(100) as never })),
      `id: expected an id (integer ≥ 1), got "${'y'.repeat(38)}…`,
    ],
  ])('refuses %s', (_, decode, message) => {
    expect(decode).toThrow(DecodeError);
    expect(decode).toThrow(message);
  });
});

describe('encoding requests', () => {
  it('sends the create, PUT and PATCH examples of the docs exactly', () => {
    const create = { name: 'web-server-02', planId: 1, osId: 5, location: 'us-west' };
    expect(toWireCreateRequest({ ...create, hostname: 'web02.example.com', backupsEnabled: true })).toEqual(
      CREATE_REQUEST_EXAMPLE,
    );
    expect(
      toWireUpdateRequest({
        name: 'web-server-updated',
        hostname: 'web-updated.example.com',
        backupsEnabled: true,
      }),
    ).toEqual(PUT_REQUEST_EXAMPLE);
    expect(toWirePatchRequest({ name: 'new-server-name' })).toEqual(PATCH_REQUEST_EXAMPLE);
  });

  it('sends a create in snake_case', () => {
    expect(
      toWireCreateRequest({
        name: 'web-server-02',
        planId: 1,
        osId: 5,
        location: 'us-west',
        hostname: 'web02.example.com',
        sshKeyId: 42,
        backupsEnabled: true,
      }),
    ).toEqual({
      name: 'web-server-02',
      plan_id: 1,
      os_id: 5,
      location: 'us-west',
      hostname: 'web02.example.com',
      ssh_key_id: 42,
      backups_enabled: true,
    });
  });

  it('leaves out the optional create fields not given', () => {
    expect(toWireCreateRequest({ name: 'a', planId: 1, osId: 3, location: 'us-east' })).toEqual({
      name: 'a',
      plan_id: 1,
      os_id: 3,
      location: 'us-east',
    });
  });

  it('sends all three fields of a PUT', () => {
    expect(toWireUpdateRequest({ name: 'a', hostname: 'a.example.com', backupsEnabled: false })).toEqual({
      name: 'a',
      hostname: 'a.example.com',
      backups_enabled: false,
    });
  });

  it.each([
    [{ name: 'new-server-name' }, { name: 'new-server-name' }],
    [{ backupsEnabled: false }, { backups_enabled: false }],
    [{ hostname: 'h.example.com', name: undefined }, { hostname: 'h.example.com' }],
    [{}, {}],
  ])('sends only the given fields of a PATCH: %o', (changes, wire) => {
    expect(toWirePatchRequest(changes)).toEqual(wire);
  });
});
