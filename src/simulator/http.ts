// The simulator on the wire (node:http): routes provider paths to ProviderApi and /_sim/ to the
// inspection API, applies injected faults around the provider API (latency, dropped
// connections, error pages, lost replies), counts what happened and logs one line per request.
// Everything that decides an answer lives in the modules it calls; this file only moves bytes.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SimulatorControl } from './control.ts';
import { matchRoute, type RouteMatch } from './endpoints.ts';
import { decideFault, type FaultDecision, injectedErrorReply } from './faults.ts';
import { garbleReply } from './garble.ts';
import { INSPECT_PREFIX, type InspectApi } from './inspect.ts';
import type { ProviderApi } from './provider-api.ts';
import type { Random } from './random.ts';
import { detailReply, NOT_FOUND, type Reply, serializeReply } from './reply.ts';
import type { StatsRecorder } from './stats.ts';
import { isWriteEndpoint, type WriteLog } from './write-log.ts';

/** Bodies above this are refused (413); the API's bodies are a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpDeps {
  api: ProviderApi;
  /** null when the inspection API is off: /_sim/ is then an ordinary unknown path. */
  inspect: InspectApi | null;
  control: SimulatorControl;
  stats: StatsRecorder;
  writes: WriteLog;
  random: Random;
  logger: Logger;
  /** Aborted on close: pending injected latencies end and their sockets are dropped. */
  closing: AbortSignal;
}

/** What the request line of the log says beyond method, path and duration. */
interface LogFields {
  status?: number;
  endpoint?: string;
  account?: string;
  fault?: string;
}

export function createSimulatorServer(deps: HttpDeps): Server {
  return createServer((req, res) => {
    const startedAt = performance.now();
    const log = (fields: LogFields): void => {
      const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
      // Only these fields: never headers, so never the Authorization header or its token.
      deps.logger.info({ method: req.method, path: req.url, durationMs, ...fields }, 'request');
    };
    serve(deps, req, res, log).catch((err: unknown) => {
      deps.logger.error({ err, method: req.method, path: req.url }, 'request failed');
      if (!res.headersSent) writeReply(res, detailReply(500, 'A server error occurred.'));
      else res.destroy();
    });
  });
}

async function serve(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  log: (fields: LogFields) => void,
): Promise<void> {
  const body = await readBody(req);
  if (body === null) {
    finish(res, detailReply(413, 'Request body too large.', { Connection: 'close' }), log, {});
    return;
  }
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);

  if (url.pathname.startsWith(INSPECT_PREFIX) || url.pathname === '/_sim') {
    const reply = deps.inspect?.handle(method, url, body) ?? detailReply(404, NOT_FOUND);
    finish(res, reply, log, {});
    return;
  }

  const route = matchRoute(method, url.pathname);
  if (route.kind !== 'endpoint') {
    deps.stats.unmatched();
    const reply =
      route.kind === 'notFound'
        ? detailReply(404, NOT_FOUND)
        : detailReply(405, `Method "${method}" not allowed.`, { Allow: route.allowed.join(', ') });
    deps.stats.reply(null, reply.status);
    finish(res, reply, log, {});
    return;
  }
  await serveEndpoint({ deps, req, res, log, route, url, body });
}

/** One call to a provider endpoint, with what the fault rules inject around it. */
interface EndpointCall {
  deps: HttpDeps;
  req: IncomingMessage;
  res: ServerResponse;
  log: (fields: LogFields) => void;
  route: Extract<RouteMatch, { kind: 'endpoint' }>;
  url: URL;
  body: string;
}

async function serveEndpoint(call: EndpointCall): Promise<void> {
  const { deps, req, route } = call;
  deps.stats.call(route.endpoint);
  deps.api.noteArrival(req.headers.authorization, route.endpoint);
  const fault = decideFault(
    deps.control.faultRules,
    route.endpoint,
    deps.random,
    deps.api.accountNameOf(req.headers.authorization),
  );
  if (await faultInsteadOfCall(call, fault)) return;
  answer(call, fault);
}

/** Latency, then a fault that stands in for the call (drop, hang, error page); true if one did. */
async function faultInsteadOfCall(
  { deps, res, log, route }: EndpointCall,
  fault: FaultDecision,
): Promise<boolean> {
  const { endpoint } = route;
  if (fault.latencyMs > 0) {
    try {
      await sleep(fault.latencyMs, undefined, { signal: deps.closing });
    } catch {
      res.destroy();
      log({ endpoint, fault: 'shutdown' });
      return true;
    }
  }
  switch (fault.action.kind) {
    case 'drop':
      deps.stats.count('droppedConnections');
      res.destroy();
      log({ endpoint, fault: 'drop' });
      return true;
    case 'hang':
      // Held until the client's timeout closes the socket (or the simulator closes).
      deps.stats.count('hungRequests');
      if (!res.destroyed) {
        await new Promise<void>((resolve) => {
          res.once('close', resolve);
          deps.closing.addEventListener('abort', () => resolve(), { once: true });
        });
      }
      res.destroy();
      log({ endpoint, fault: 'hang' });
      return true;
    case 'error': {
      deps.stats.count('injectedErrors');
      const reply = injectedErrorReply(fault.action.status);
      deps.stats.reply(endpoint, reply.status);
      finish(res, reply, log, { endpoint, fault: 'error' });
      return true;
    }
  }
  return false;
}

/** The provider API acts; its reply is delivered, lost or garbled as the fault says. */
function answer({ deps, req, res, log, route, url, body }: EndpointCall, fault: FaultDecision): void {
  const { endpoint } = route;
  const { reply, account } = deps.api.handle({
    endpoint,
    serverId: route.serverId,
    url,
    authorization: req.headers.authorization,
    contentType: req.headers['content-type'],
    body,
  });
  const accountName = account === null ? {} : { account: account.name };
  const delivery =
    fault.action.kind === 'lostResponse' ? 'lost' : fault.action.kind === 'garble' ? 'garbled' : 'delivered';
  const serverId = route.serverId ?? createdId(reply);
  if (isWriteEndpoint(endpoint) && account !== null && reply.status < 300 && serverId !== null) {
    deps.writes.add({ at: Date.now(), endpoint, account: account.name, serverId, reply: delivery });
  }
  if (fault.action.kind === 'lostResponse') {
    // The API has acted (a create made its server); only the answer never reaches the client.
    deps.stats.count('lostResponses');
    deps.api.replyLost(req.headers.authorization, reply.status);
    res.destroy();
    log({ endpoint, ...accountName, status: reply.status, fault: 'lostResponse' });
    return;
  }
  deps.stats.reply(endpoint, reply.status);
  if (fault.action.kind === 'garble') {
    deps.stats.count('garbledReplies');
    finish(res, garbleReply(reply, fault.action.garble), log, {
      endpoint,
      ...accountName,
      fault: `garble:${fault.action.garble}`,
    });
    return;
  }
  finish(res, reply, log, { endpoint, ...accountName });
}

/** The id in a create's 201 body, or null. */
function createdId(reply: Reply): number | null {
  const id = (reply.json as { id?: unknown } | undefined)?.id;
  return typeof id === 'number' ? id : null;
}

function finish(
  res: ServerResponse,
  reply: Reply,
  log: (fields: LogFields) => void,
  fields: LogFields,
): void {
  writeReply(res, reply);
  log({ ...fields, status: reply.status });
}

function writeReply(res: ServerResponse, reply: Reply): void {
  const { body, contentType } = serializeReply(reply);
  const headers: Record<string, string> = { ...reply.headers };
  if (contentType !== null) headers['Content-Type'] = contentType;
  headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** The whole body as text, or null when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
