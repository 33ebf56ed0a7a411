// Replies the provider carried out but sent back broken, the way a half-deployed API, a proxy
// in front of it or a schema change breaks them: HTML instead of JSON, JSON cut short, numbers
// turned into strings, a server state nobody documented, a 200 with no body at all. The
// reliability suite feeds these to the operator to prove it neither crashes nor acts twice.

import { SERVER_STATES } from '../vpsorg/wire.ts';
import { type Reply, serializeReply } from './reply.ts';

export const GARBLES = ['notJson', 'truncated', 'wrongTypes', 'unknownState', 'emptyBody'] as const;
export type Garble = (typeof GARBLES)[number];

/** The state `unknownState` reports: not one of the contract's states. */
export const UNKNOWN_STATE = 'migrating';

const KNOWN_STATES: ReadonlySet<string> = new Set(SERVER_STATES);

/** `reply` broken as `garble` says; replies without a JSON body pass through unchanged. */
export function garbleReply(reply: Reply, garble: Garble): Reply {
  if (reply.json === undefined) return reply;
  const { status, headers } = reply;
  const withHeaders = (r: Reply): Reply => (headers === undefined ? r : { ...r, headers });
  switch (garble) {
    case 'notJson':
      return withHeaders({
        status,
        text: { body: '<html><body><h1>Welcome to nginx!</h1></body></html>\n', contentType: 'text/html' },
      });
    case 'truncated': {
      const { body } = serializeReply(reply);
      return withHeaders({
        status,
        text: {
          body: body.slice(0, Math.max(1, Math.floor(body.length / 2))),
          contentType: 'application/json',
        },
      });
    }
    case 'emptyBody':
      return withHeaders({ status, text: { body: '', contentType: 'application/json' } });
    case 'wrongTypes':
      return { ...reply, json: mapValues(reply.json, (v) => (typeof v === 'number' ? String(v) : v)) };
    case 'unknownState':
      return {
        ...reply,
        json: mapValues(reply.json, (v, key) =>
          key === 'status' && typeof v === 'string' && KNOWN_STATES.has(v) ? UNKNOWN_STATE : v,
        ),
      };
  }
}

/** A deep copy of `value` with every leaf passed through `f` (with the key it sits under). */
function mapValues(
  value: unknown,
  f: (v: unknown, key: string | undefined) => unknown,
  key?: string,
): unknown {
  if (Array.isArray(value)) return value.map((v) => mapValues(v, f, key));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapValues(v, f, k)]));
  }
  return f(value, key);
}
