// The ServerProvider port over the real VPS.org client: every call waits its turn in its
// account's call budget (writes before observation, namespaces in turn), a 429 pauses that
// budget for its Retry-After, and the client's camelCase models become the domain's
// ObservedServer. `beforeWrite` (the lease guard) is asked by the client right before a write's
// request is handed to fetch (after its turn in the budget and every other await), not when it
// was queued.
import { type CallBudget, callPriority } from '../runtime/index.ts';
import type { CallOptions, ServerDetail, ServerSummary, VpsOrgClient } from '../vpsorg/index.ts';
import { isNotFound, ListCursor } from '../vpsorg/index.ts';
import type { ObservedServer } from './observed.ts';
import type { ListResume, ServerProvider } from './provider.ts';

/** The budget flow of the account's list and detail reads. */
export const OBSERVATION_FLOW = '(observation)';

export function vpsOrgProvider(
  client: VpsOrgClient,
  budget: CallBudget,
  beforeWrite: () => void = () => {},
): ServerProvider {
  const write = <T>(fn: (options: CallOptions) => Promise<T>, signal: AbortSignal) =>
    budget.run(() => fn({ signal, beforeSend: beforeWrite }), { priority: callPriority.write, signal });
  // Observation serves every namespace of the account: a flow of its own, not the namespace of
  // whichever pass happened to start the account's observation loop.
  const observe = <T>(fn: () => Promise<T>, signal: AbortSignal) =>
    budget.run(fn, { priority: callPriority.observe, flow: OBSERVATION_FLOW, signal });
  return {
    // Asked with the same priority and flow the call would have (a write's flow is the pass's namespace).
    longWait: (call) =>
      call === 'write'
        ? budget.longWait({ priority: callPriority.write })
        : budget.longWait({ priority: callPriority.observe, flow: OBSERVATION_FLOW }),
    // Each page is one call of the budget: counted as one, a 100-page list would burst past
    // the provider's limit and draw 429s.
    listServers: (signal, onFirstRequest, resume) =>
      client
        .listServers(
          {},
          {
            signal,
            ...(resume !== undefined && { resume: cursorOf(resume) }),
            schedule: (request) =>
              observe(() => {
                onFirstRequest?.();
                return request();
              }, signal),
          },
        )
        .then((all) => all.map(fromSummary)),
    getServer: (id, signal) =>
      observe(() => client.getServer(id, { signal }), signal).then(fromDetail, (err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      }),
    createServer: (request, signal) =>
      write((o) => client.createServer(request, o), signal).then((s) => ({
        ...fromSummary(s),
        backupsEnabled: s.backupsEnabled,
      })),
    updateServer: async (id, changes, signal) =>
      knownAfterPatch(id, await write((o) => client.patchServer(id, changes, o), signal)),
    powerAction: async (id, action, signal) => {
      const res = await write(powerCall(client, id, action), signal);
      return { id, state: res.server.status };
    },
    deleteServer: async (id, signal) => {
      try {
        await write((o) => client.deleteServer(id, o), signal);
      } catch (err) {
        if (!isNotFound(err)) throw err; // already gone counts as deleted
      }
    },
  };
}

/** What a PATCH answer tells of the server: only the fields it carries. */
function knownAfterPatch(
  id: number,
  updated: Awaited<ReturnType<VpsOrgClient['patchServer']>>,
): Partial<ObservedServer> & { id: number } {
  const known: Partial<ObservedServer> & { id: number } = { id };
  if (updated.name !== undefined) known.name = updated.name;
  if (updated.hostname !== undefined) known.hostname = updated.hostname;
  if (updated.backupsEnabled !== undefined) known.backupsEnabled = updated.backupsEnabled;
  if (updated.status !== undefined) known.state = updated.status;
  return known;
}

function powerCall(client: VpsOrgClient, id: number, action: 'start' | 'stop' | 'reboot') {
  return {
    start: (o: CallOptions) => client.startServer(id, o),
    stop: (o: CallOptions) => client.stopServer(id, o),
    reboot: (o: CallOptions) => client.rebootServer(id, o),
  }[action];
}

function cursorOf(resume: ListResume): ListCursor {
  if (!(resume.place instanceof ListCursor)) resume.place = new ListCursor();
  return resume.place as ListCursor;
}

function fromSummary(s: ServerSummary): ObservedServer {
  return {
    id: s.id,
    name: s.name,
    hostname: s.hostname,
    state: s.status,
    ipAddress: s.ipAddress,
    location: s.location,
    plan: { ...s.plan },
    os: { ...s.os },
    createdAt: Date.parse(s.createdAt),
  };
}

function fromDetail(d: ServerDetail): ObservedServer {
  return {
    ...fromSummary({ ...d, plan: d.plan }),
    plan: { ...d.plan },
    backupsEnabled: d.backupsEnabled,
    ipv6Address: d.ipv6Address,
    resourceUsage: { ...d.resourceUsage },
  };
}
