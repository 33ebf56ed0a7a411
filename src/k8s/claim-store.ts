// Server claims kept as coordination.k8s.io/v1 Leases in the operator's namespace, one per
// (provider endpoint, account, server): `vps-claim-<endpoint>-<account>-<server>`. A Lease needs no
// CRD, and a create is atomic: of all replicas, shards and workers asking at once, exactly one
// gets 201 and the rest 409 AlreadyExists. Claims are read from a label-selected watch (no
// request per pass); a take-over of a stale claim and a release delete with a precondition on
// the Lease's uid and resourceVersion, so two processes can never both win. The pure rules
// (what counts as stale, who is next) are src/vpsserver/claims.ts.
//
// The endpoint (a hash of the API URL) is part of the name because a server id is unique only
// at one provider endpoint: an operator against a staging URL, or a test's simulator, with the
// same token must not collide with another's claims. The account id is Account.id, unchanged.
import { createHash } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer, stripManagedFields } from '../runtime/informer.ts';
import { KubeListWatch } from '../runtime/kube-list-watch.ts';
import { kubeRequest, segment } from '../runtime/kube-request.ts';
import { type Claim, type ClaimPort, holderStillClaims } from '../vpsserver/claims.ts';
import { keyOf, type VpsServer } from '../vpsserver/types.ts';
import { isConflict, isNotFound } from './errors.ts';

export const CLAIM_LABEL = 'vps.org/claim';
const ACCOUNT_LABEL = 'vps.org/account';
const SERVER_LABEL = 'vps.org/server-id';
const HOLDER_UID_LABEL = 'vps.org/holder-uid';
const ENDPOINT_LABEL = 'vps.org/endpoint';

interface LeaseObject extends KubernetesObject {
  spec?: { holderIdentity?: string };
}

export interface ClaimStoreOptions {
  kubeConfig: KubeConfig;
  /** Where claims live: the operator's namespace, the same for every replica and shard. */
  namespace: string;
  /** The provider API URL (hashed into the claim name and a label). */
  apiUrl: string;
  logger: Logger;
  /** Reads a VpsServer fresh from the API server (undefined: 404): is a claim's holder still there? */
  readHolder: (namespace: string, name: string) => Promise<unknown>;
  /** A claim was deleted (released or taken over): resources waiting for the server may try. */
  onReleased?: (accountId: string, serverId: number) => void;
  /** Called before every create and delete; throwing refuses it (the lease guard, as for every write). */
  beforeWrite?: () => void;
}

export const endpointId = (apiUrl: string): string =>
  createHash('sha256').update(apiUrl).digest('hex').slice(0, 8);

export class ClaimStore implements ClaimPort {
  readonly #kc: KubeConfig;
  readonly #ns: string;
  readonly #endpoint: string;
  readonly #log: Logger;
  readonly #readHolder: ClaimStoreOptions['readHolder'];
  readonly #beforeWrite: () => void;
  readonly #informer: Informer<LeaseObject>;
  /** Claims as last known: the watch's view, corrected at once by our own writes. */
  readonly #byName = new Map<string, Claim>();

  constructor(options: ClaimStoreOptions) {
    this.#kc = options.kubeConfig;
    this.#ns = options.namespace;
    this.#endpoint = endpointId(options.apiUrl);
    this.#log = options.logger;
    this.#readHolder = options.readHolder;
    this.#beforeWrite = options.beforeWrite ?? (() => {});
    this.#informer = new Informer<LeaseObject>({
      listWatch: new KubeListWatch({
        kubeConfig: this.#kc,
        path: this.#collection(),
        labelSelector: `${CLAIM_LABEL}=true,${ENDPOINT_LABEL}=${this.#endpoint}`,
      }),
      resyncPeriodMs: 0,
      transform: stripManagedFields,
      logger: options.logger.child({ component: 'claims' }),
    });
    const seen = (lease: LeaseObject) => {
      const c = claimOf(lease);
      if (c !== undefined) this.#byName.set(lease.metadata?.name ?? '', c);
    };
    this.#informer.addEventHandler({
      onAdd: seen,
      onUpdate: (_old, lease) => seen(lease),
      onDelete: (lease) => {
        const name = lease.metadata?.name ?? '';
        const known = this.#byName.get(name);
        // Our own re-create may already be known under this name; only drop what was deleted.
        if (known !== undefined && known.uid === lease.metadata?.uid) this.#byName.delete(name);
        const c = claimOf(lease);
        if (c !== undefined) options.onReleased?.(c.accountId, c.serverId);
      },
    });
  }

  start(): void {
    this.#informer.start();
  }

  waitForCacheSync(): Promise<boolean> {
    return this.#informer.waitForCacheSync();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  holderOf(accountId: string, serverId: number): string | undefined {
    return this.#byName.get(this.#name(accountId, serverId))?.holder;
  }

  heldBy(uid: string): Claim[] {
    const out: Claim[] = [];
    for (const c of this.#byName.values()) if (c.holderUid === uid) out.push(c);
    return out;
  }

  async acquire(
    accountId: string,
    serverId: number,
    vps: VpsServer,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    const name = this.#name(accountId, serverId);
    let known = this.#byName.get(name);
    for (let attempt = 0; attempt < 4; attempt++) {
      if (known === undefined) {
        const created = await this.#create(name, accountId, serverId, vps);
        if (created !== undefined) return { ok: true };
        known = await this.#read(name); // 409: someone was first; see who
        if (known === undefined) continue;
      }
      if (known.holderUid === vps.metadata.uid) return { ok: true };
      const [hns = '', hname = ''] = known.holder.split('/');
      if (holderStillClaims(known, await this.#readHolder(hns, hname)))
        return { ok: false, holder: known.holder };
      // The holder is gone (or names another server now): take over, unless someone beat us to it.
      this.#log.info(
        { account: accountId, serverId, staleHolder: known.holder, claimant: keyOf(vps) },
        'taking over a stale server claim',
      );
      await this.#delete(known);
      known = undefined;
    }
    // Four rounds of losing races: report whoever holds it now; the next pass asks again.
    const now = await this.#read(name);
    return now === undefined || now.holderUid === vps.metadata.uid
      ? { ok: true }
      : { ok: false, holder: now.holder };
  }

  async release(claim: Claim): Promise<void> {
    this.#log.info(
      { account: claim.accountId, serverId: claim.serverId, holder: claim.holder },
      'releasing server claim',
    );
    await this.#delete(claim);
  }

  #name(accountId: string, serverId: number): string {
    return `vps-claim-${this.#endpoint}-${accountId}-${serverId}`;
  }

  #collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${segment(this.#ns)}/leases`;
  }

  async #create(
    name: string,
    accountId: string,
    serverId: number,
    vps: VpsServer,
  ): Promise<Claim | undefined> {
    const body: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#ns,
        labels: {
          [CLAIM_LABEL]: 'true',
          [ENDPOINT_LABEL]: this.#endpoint,
          [ACCOUNT_LABEL]: accountId,
          [SERVER_LABEL]: String(serverId),
          [HOLDER_UID_LABEL]: vps.metadata.uid,
        },
      },
      spec: { holderIdentity: keyOf(vps) },
    };
    try {
      const lease = await kubeRequest<LeaseObject>(this.#kc, {
        method: 'POST',
        path: this.#collection(),
        body,
        beforeSend: this.#beforeWrite,
      });
      const c = claimOf(lease);
      if (c !== undefined) this.#byName.set(name, c);
      return c;
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw err;
    }
  }

  async #read(name: string): Promise<Claim | undefined> {
    try {
      const lease = await kubeRequest<LeaseObject>(this.#kc, {
        method: 'GET',
        path: `${this.#collection()}/${segment(name)}`,
      });
      const c = claimOf(lease);
      if (c !== undefined) this.#byName.set(name, c);
      return c;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#byName.delete(name);
      return undefined;
    }
  }

  /** Deletes exactly this claim: a newer one under the same name (409 or 404) is left alone. */
  async #delete(claim: Claim): Promise<void> {
    const name = this.#name(claim.accountId, claim.serverId);
    try {
      await kubeRequest(this.#kc, {
        method: 'DELETE',
        path: `${this.#collection()}/${segment(name)}`,
        beforeSend: this.#beforeWrite,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: claim.uid, resourceVersion: claim.resourceVersion },
        },
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    if (this.#byName.get(name)?.uid === claim.uid) this.#byName.delete(name);
  }
}

function claimOf(lease: LeaseObject): Claim | undefined {
  const labels = lease.metadata?.labels ?? {};
  const serverId = Number(labels[SERVER_LABEL]);
  const accountId = labels[ACCOUNT_LABEL];
  const holder = lease.spec?.holderIdentity;
  const holderUid = labels[HOLDER_UID_LABEL];
  if (
    accountId === undefined ||
    holder === undefined ||
    holderUid === undefined ||
    !Number.isInteger(serverId)
  )
    return undefined;
  return {
    accountId,
    serverId,
    holder,
    holderUid,
    uid: lease.metadata?.uid ?? '',
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}
