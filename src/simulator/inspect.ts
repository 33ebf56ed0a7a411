// The inspection and control API under /_sim/ on the simulator's port: for tests, benchmarks
// and chaos runs in other processes. No authentication, so it exists only when the simulator
// was started with `inspect` (otherwise /_sim/ is a plain 404). It is a thin HTTP adapter over
// SimulatorControl; request and answer bodies are JSON.

import { SERVER_STATES } from '../vpsorg/wire.ts';
import type { SimulatorControl } from './control.ts';
import * as decode from './decode.ts';
import { parseFaultConfig } from './faults.ts';
import { parseRateLimitValue } from './rate-limit.ts';
import { detailReply, jsonReply, NOT_FOUND, type Reply } from './reply.ts';
import { AccountConflictError, type DriftChange } from './store.ts';
import { validateUpdate } from './validation.ts';

export const INSPECT_PREFIX = '/_sim/';

type Route = (match: RegExpExecArray, body: () => unknown, query: URLSearchParams) => Reply;

const notFound = (): Reply => detailReply(404, NOT_FOUND);

/** Does `act` and answers 204. */
function done(act: () => void): Reply {
  act();
  return { status: 204 };
}

export class InspectApi {
  readonly #control: SimulatorControl;
  readonly #routes: [method: string, pattern: RegExp, route: Route][];

  constructor(control: SimulatorControl) {
    this.#control = control;
    const c = control;
    const id = (m: RegExpExecArray): number => Number(m[1]);
    const found = (value: unknown): Reply => (value === undefined ? notFound() : jsonReply(200, value));
    this.#routes = [
      ['GET', /^servers$/, (_m, _b, query) => this.#servers(query.get('account'))],
      ['GET', /^servers\/(\d+)$/, (m) => found(c.server(id(m)))],
      ['PATCH', /^servers\/(\d+)$/, (m, body) => found(c.drift(id(m), parseDrift(body())))],
      ['DELETE', /^servers\/(\d+)$/, (m) => (c.deleteServer(id(m)) ? { status: 204 } : notFound())],
      ['POST', /^servers\/(\d+)\/suspend$/, (m) => found(c.suspend(id(m)))],
      ['POST', /^servers\/(\d+)\/unsuspend$/, (m) => found(c.unsuspend(id(m)))],
      ['GET', /^stats$/, () => jsonReply(200, c.stats())],
      ['GET', /^writes$/, () => jsonReply(200, c.writes())],
      ['POST', /^reset-stats$/, () => done(() => c.resetStats())],
      ['GET', /^faults$/, () => jsonReply(200, c.faults())],
      ['PUT', /^faults$/, (_m, body) => this.#setFaults(body())],
      ['PUT', /^rate-limit$/, (_m, body) => this.#setRateLimit(body())],
      ['GET', /^accounts$/, () => jsonReply(200, c.accounts())],
      ['POST', /^accounts$/, (_m, body) => this.#addAccount(body())],
      [
        'PUT',
        /^accounts\/([^/]+)\/credits$/,
        (m, body) => this.#setCredits(decodeURIComponent(m[1] ?? ''), body()),
      ],
      ['GET', /^time$/, () => this.#time()],
      ['POST', /^advance$/, (_m, body) => this.#advance(body())],
      ['POST', /^finish-transitions$/, () => done(() => c.finishTransitions())],
    ];
  }

  /** Answers a request whose path starts with /_sim/; bad bodies are 400 naming the field. */
  handle(method: string, url: URL, bodyText: string): Reply {
    const path = url.pathname.slice(INSPECT_PREFIX.length).replace(/\/$/, '');
    const body = (): unknown => {
      if (bodyText.trim() === '') return null;
      try {
        return JSON.parse(bodyText);
      } catch (err) {
        decode.fail('body', `JSON (${(err as Error).message})`);
      }
    };
    let pathMatched = false;
    for (const [routeMethod, pattern, route] of this.#routes) {
      const match = pattern.exec(path);
      if (match === null) continue;
      pathMatched = true;
      if (routeMethod !== method) continue;
      try {
        return route(match, body, url.searchParams);
      } catch (err) {
        if (err instanceof decode.DecodeError) return detailReply(400, err.message);
        if (err instanceof AccountConflictError) return detailReply(409, err.message);
        throw err;
      }
    }
    return pathMatched ? detailReply(405, `Method "${method}" not allowed.`) : notFound();
  }

  #servers(account: string | null): Reply {
    const servers = this.#control.servers().filter((s) => account === null || s.account === account);
    return jsonReply(200, { count: servers.length, results: servers });
  }

  #setFaults(body: unknown): Reply {
    this.#control.setFaults(parseFaultConfig(body, 'faults'));
    return jsonReply(200, this.#control.faults());
  }

  #setRateLimit(body: unknown): Reply {
    const fields = decode.object(body, 'body');
    decode.onlyKeys(fields, '', ['rateLimit']);
    this.#control.setRateLimit(parseRateLimitValue(fields.rateLimit ?? null, 'rateLimit'));
    return { status: 204 };
  }

  #addAccount(body: unknown): Reply {
    const fields = decode.object(body, 'body');
    decode.onlyKeys(fields, '', ['name', 'token', 'credits']);
    const token = decode.string(fields.token, 'token');
    if (/\s/.test(token)) decode.fail('token', 'a string without spaces');
    const summary = this.#control.addAccount({
      name: decode.string(fields.name, 'name'),
      token,
      credits: fields.credits === undefined ? 0 : decode.number(fields.credits, 'credits', 0),
    });
    return jsonReply(201, summary);
  }

  #setCredits(name: string, body: unknown): Reply {
    const fields = decode.object(body, 'body');
    decode.onlyKeys(fields, '', ['credits']);
    const credits = decode.number(fields.credits, 'credits', 0);
    if (!this.#control.setCredits(name, credits)) return notFound();
    return jsonReply(
      200,
      this.#control.accounts().find((a) => a.name === name),
    );
  }

  #time(): Reply {
    const now = this.#control.now();
    return jsonReply(200, { now: new Date(now).toISOString(), ms: now });
  }

  #advance(body: unknown): Reply {
    const fields = decode.object(body, 'body');
    decode.onlyKeys(fields, '', ['ms']);
    this.#control.advance(decode.number(fields.ms, 'ms', 0));
    return this.#time();
  }
}

const DRIFT_KEYS = ['name', 'hostname', 'backups_enabled', 'status'];

/** An out-of-band change: the PATCH fields (validated as the API would) plus a status. */
function parseDrift(body: unknown): DriftChange {
  const fields = decode.object(body, 'body');
  decode.onlyKeys(fields, '', DRIFT_KEYS);
  const { status, ...rest } = fields;
  const update = validateUpdate(rest, 'patch');
  if (!update.ok) {
    const [field, messages] = Object.entries(update.errors)[0] ?? ['body', []];
    decode.fail(field, messages.join(' '));
  }
  const change: DriftChange = { ...update.value };
  if (status !== undefined) {
    const state = SERVER_STATES.find((s) => s === status);
    if (state === undefined) decode.fail('status', `one of ${SERVER_STATES.join(', ')}`);
    change.status = state;
  }
  return change;
}
