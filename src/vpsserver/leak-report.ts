// The leak report's I/O half (issue 16): gathers what leakedServers() (leaks.ts) decides on,
// warns once per newly found leak, and with `--leaked-servers=delete` deletes one leak per pass
// that made no other provider write, holding a claim on it first so no other replica or shard
// can be adopting it at the same moment. Kept out of reconcile.ts so the pass stays a list of
// steps; the reconciler calls find() before it reports, warn() and clean() after.
import type { Logger } from 'pino';
import type { EventType } from '../k8s/events.ts';
import type { Account } from './accounts.ts';
import type { ActResult } from './act.ts';
import type { ClaimPort } from './claims.ts';
import { type LeakDecision, type LeakPolicy, leakedServers } from './leaks.ts';
import { leakedServerDeletedMessage, leakedServersMessage } from './messages.ts';
import type { ServerOwners } from './owners.ts';
import { type Action, managedServerId, PROVIDER_WRITES } from './plan.ts';
import { providerFailure } from './provider.ts';
import { desiredServerName, keyOf, type VpsServer, type VpsServerStatus } from './types.ts';

export interface LeakOptions {
  policy: LeakPolicy;
  graceMs: number;
}

export interface LeakReportDeps {
  options: LeakOptions;
  owners: ServerOwners;
  claims?: ClaimPort;
  /** Whether a resource other than `key` asking for `serverName` has a create in flight. */
  creatingNamed?: (serverName: string, key: string) => boolean;
  /** Server ids of the account that resources other than `vps` manage or name. */
  namedByOthers: (accountId: string, vps: VpsServer) => Set<number>;
  recordEvent: (target: VpsServer, type: EventType, reason: string, message: string) => void;
  logger: Logger;
  now: () => number;
  clockSkewMs: number;
  /** Called after each delete of a leak (metrics). */
  onDeleted?: (ok: boolean) => void;
}

/** Actions after which the resource's own server is not settled enough to judge others by. */
const NOT_JUDGED: ReadonlySet<Action['type']> = new Set([
  'Stalled',
  'RemoveFinalizer',
  'Delete',
  'ForgetServer',
]);

const NONE: LeakDecision = { leaked: [], toDelete: [] };

/** After a delete (or a pass whose write came first): the next pass sees it and goes on. */
const AGAIN_SOON_MS = 50;
/** After a failed delete: the leak is no emergency, the provider's trouble may be. */
const AGAIN_AFTER_FAILURE_MS = 30_000;

export class LeakReport {
  readonly #d: LeakReportDeps;

  constructor(deps: LeakReportDeps) {
    this.#d = deps;
  }

  /** What the pass reports; undefined when it cannot tell (status.leakedServerIds stays as it is). */
  find(action: Action, result: ActResult, account: Account | undefined): LeakDecision | undefined {
    if (account === undefined || !result.outcome.ok || NOT_JUDGED.has(action.type)) return undefined;
    const vps = { ...result.vps, status: { ...result.vps.status, ...result.statusPatch } };
    const own = managedServerId(vps);
    if (own === undefined) return undefined;
    const name = desiredServerName(vps);
    const key = keyOf(vps);
    // A server another resource of that name is making looks like a leak until it records the id.
    if (this.#d.creatingNamed?.(name, key) ?? false) return undefined;
    const servers = account.observation.named(name).filter((s) => s.id !== own);
    // The common case costs one map lookup: no other server has this name.
    if (servers.length === 0) return NONE;
    const named = this.#d.namedByOthers(account.id, vps);
    const holder = (id: number) => this.#d.claims?.holderOf(account.id, id);
    return leakedServers({
      vps,
      servers,
      everOwned: (id) => named.has(id) || this.#d.owners.everOwned(account.id, id),
      // A claim this resource took to delete a leak does not make the leak someone's.
      everClaimed: (id) => holder(id) !== undefined && holder(id) !== key,
      now: this.#d.now(),
      graceMs: this.#d.options.graceMs,
      policy: this.#d.options.policy,
      clockSkewMs: this.#d.clockSkewMs,
    });
  }

  /** One Warning naming the leaks this pass found that the resource's status did not list yet. */
  warn(vps: VpsServer, status: VpsServerStatus): void {
    const before = new Set(vps.status.leakedServerIds ?? []);
    const found = (status.leakedServerIds ?? []).filter((id) => !before.has(id));
    if (found.length === 0) return;
    const name = desiredServerName(vps);
    this.#d.logger.warn({ key: keyOf(vps), leakedServerIds: found }, 'servers look like leaked duplicates');
    this.#d.recordEvent(vps, 'Warning', 'LeakedServer', leakedServersMessage(found, name));
  }

  /**
   * With policy delete: deletes the oldest deletable leak, if this pass made no other provider
   * write (at most one per pass) and the claim on the leak is ours. Says when to look again:
   * soon after a delete, after the budget's wait when it was too long, later after a failure.
   */
  async clean(
    vps: VpsServer,
    decision: LeakDecision | undefined,
    action: Action,
    account: Account | undefined,
    signal: AbortSignal,
  ): Promise<{ againInMs: number } | undefined> {
    const id = decision?.toDelete[0];
    if (id === undefined || account === undefined || this.#d.options.policy !== 'delete') return undefined;
    // The write this pass made is its one; the next pass deletes.
    if (PROVIDER_WRITES.has(action.type)) return { againInMs: AGAIN_SOON_MS };
    // A throttled account's budget is not waited on in a worker (docs/design.md, change 15).
    const wait = account.provider.longWait('write');
    if (wait !== undefined) return { againInMs: wait };
    const got = (await this.#d.claims?.acquire(account.id, id, vps)) ?? { ok: true };
    if (!got.ok) return undefined;
    const log = this.#d.logger.child({ key: keyOf(vps), serverId: id });
    try {
      await account.provider.deleteServer(id, signal);
    } catch (err) {
      log.warn({ err: providerFailure(err).message }, 'could not delete a leaked server; trying again later');
      this.#d.onDeleted?.(false);
      return { againInMs: AGAIN_AFTER_FAILURE_MS };
    }
    account.observation.markDeleted(id);
    log.info('deleted a leaked server');
    this.#d.onDeleted?.(true);
    this.#d.recordEvent(
      vps,
      'Normal',
      'LeakedServerDeleted',
      leakedServerDeletedMessage(id, this.#d.options.graceMs),
    );
    return { againInMs: AGAIN_SOON_MS };
  }
}
