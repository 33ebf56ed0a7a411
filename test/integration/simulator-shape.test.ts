// The simulator's answers against the JSON examples of the provider's docs, field by field:
// same keys, same JSON types (and the same nested shapes). A field the docs have and the
// simulator lacks, or the other way round, fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import {
  CREATE_EXAMPLE,
  CREATE_REQUEST_EXAMPLE,
  DETAIL_EXAMPLE,
  LIST_EXAMPLE,
  PATCH_REQUEST_EXAMPLE,
  PUT_REQUEST_EXAMPLE,
  REBOOT_EXAMPLE,
  START_EXAMPLE,
  STOP_EXAMPLE,
} from '../fixtures/seed-examples.ts';
import { call } from '../fixtures/simulator-http.ts';

const TOKEN = 'tok-shape-7a1e';

/** The JSON type of every field, recursively: what two answers of one endpoint must share. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

/** Same keys and JSON types as the documented example, recursively. */
function sameShape(actual: unknown, documented: unknown): void {
  expect(shapeOf(actual)).toEqual(shapeOf(documented));
}

const ISO_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

let sim: RunningSimulator;
let api: string;
beforeAll(async () => {
  sim = await startSimulator({ accounts: [{ name: 'docs', token: TOKEN, credits: 1_000 }], seed: 2 });
  api = `${sim.apiBaseUrl}/servers/`;
});
afterAll(async () => {
  await sim.close();
});

describe('answers have the shapes of the docs’ examples', () => {
  it('create (201)', async () => {
    const answer = await call('POST', api, { token: TOKEN, body: CREATE_REQUEST_EXAMPLE });
    expect(answer.status).toBe(201);
    sameShape(answer.body, CREATE_EXAMPLE);
    expect(Object.keys(answer.body as object)).toEqual(Object.keys(CREATE_EXAMPLE));
  });

  it('list (200) of active servers', async () => {
    await call('POST', api, {
      token: TOKEN,
      body: { ...CREATE_REQUEST_EXAMPLE, name: 'db-server-01', plan_id: 2 },
    });
    sim.state.finishTransitions();
    const answer = await call<{ results: unknown[] }>('GET', api, { token: TOKEN });
    const { next, previous, ...documented } = answer.body as Record<string, unknown>;
    // next/previous are this project's pagination assumption (DRF), absent from the docs' sample.
    expect([next, previous]).toEqual([null, null]);
    sameShape(documented, LIST_EXAMPLE);
    expect(Object.keys(answer.body.results[0] as object)).toEqual(Object.keys(LIST_EXAMPLE.results[0]!));
  });

  it('detail (200) of an active server', async () => {
    const answer = await call('GET', `${api}12345/`, { token: TOKEN });
    sameShape(answer.body, DETAIL_EXAMPLE);
    expect(Object.keys(answer.body as object)).toEqual(Object.keys(DETAIL_EXAMPLE));
  });

  it('PUT and PATCH (200) answer the detail shape', async () => {
    const put = await call('PUT', `${api}12345/`, { token: TOKEN, body: PUT_REQUEST_EXAMPLE });
    sameShape(put.body, DETAIL_EXAMPLE);
    const patch = await call('PATCH', `${api}12345/`, { token: TOKEN, body: PATCH_REQUEST_EXAMPLE });
    sameShape(patch.body, DETAIL_EXAMPLE);
  });

  it('stop, start and reboot (200)', async () => {
    const stop = await call('POST', `${api}12345/stop/`, { token: TOKEN });
    expect(stop.body).toEqual({
      ...STOP_EXAMPLE,
      server: { ...STOP_EXAMPLE.server, name: 'new-server-name' },
    });
    sim.state.finishTransitions();
    const start = await call('POST', `${api}12345/start/`, { token: TOKEN });
    expect(start.body).toEqual({
      ...START_EXAMPLE,
      server: { ...START_EXAMPLE.server, name: 'new-server-name' },
    });
    sim.state.finishTransitions();
    const reboot = await call('POST', `${api}12345/reboot/`, { token: TOKEN });
    expect(reboot.body).toEqual({
      ...REBOOT_EXAMPLE,
      server: { ...REBOOT_EXAMPLE.server, name: 'new-server-name' },
    });
  });

  it('timestamps are ISO-8601 UTC without milliseconds and ids are integers', async () => {
    const answer = await call<{ results: { id: number; created_at: string; updated_at: string }[] }>(
      'GET',
      api,
      {
        token: TOKEN,
      },
    );
    for (const server of answer.body.results) {
      expect(Number.isInteger(server.id)).toBe(true);
      expect(server.created_at).toMatch(ISO_UTC_SECONDS);
      expect(server.updated_at).toMatch(ISO_UTC_SECONDS);
    }
  });

  it('addresses come from the documentation ranges, as in the examples', async () => {
    const detail = (
      await call<{ ip_address: string; ipv6_address: string }>('GET', `${api}12345/`, { token: TOKEN })
    ).body;
    expect(detail.ip_address).toBe(DETAIL_EXAMPLE.ip_address);
    expect(detail.ipv6_address).toBe(DETAIL_EXAMPLE.ipv6_address);
  });
});
