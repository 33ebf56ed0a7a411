// The write gate over a real loopback HTTP server and Node's own fetch: the check is asked when
// the connection is about to write, not when fetch() is called, and a refusal sends nothing.
// It also pins the one undocumented thing the gate relies on, the global dispatcher's symbol,
// so a Node upgrade that moves it fails here instead of silently losing the last-moment check.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatedDispatcher, globalDispatcher } from '../../src/net/write-gate.ts';

let server: Server;
let url: string;
let received: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
});

const gatedFetch = (path: string, check: () => void, onRefused: (err: unknown) => void = () => {}) => {
  const base = globalDispatcher();
  if (base === undefined) throw new Error('no global dispatcher');
  return fetch(`${url}${path}`, {
    method: 'POST',
    body: 'x',
    dispatcher: gatedDispatcher(base, check, onRefused),
  } as RequestInit);
};

describe('the write gate', () => {
  it("finds Node's global fetch dispatcher (the undici symbol it relies on)", () => {
    expect(typeof globalDispatcher()?.dispatch).toBe('function');
  });

  it('lets a request through while the check passes', async () => {
    const res = await gatedFetch('/allowed', () => {});
    expect(await res.text()).toBe('ok');
    expect(received).toEqual(['POST /allowed']);
  });

  it('sends nothing when the check refuses, and hands the refusal over', async () => {
    const refusals: unknown[] = [];
    const lost = new Error('lease lost');
    await expect(
      gatedFetch(
        '/refused',
        () => {
          throw lost;
        },
        (err) => refusals.push(err),
      ),
    ).rejects.toThrow();
    expect(refusals).toEqual([lost]);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([]);
  });

  it('asks after fetch() has returned, not when it is called: a lease lost in between still stops the write', async () => {
    let leading = true;
    const sent = gatedFetch('/late', () => {
      if (!leading) throw new Error('lease lost');
    });
    leading = false; // fetch() has returned its promise; the connection has not written yet
    await expect(sent).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([]);
  });
});
