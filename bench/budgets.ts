// Provider budgets (issue 17) measured on the bench world: several accounts converging side by
// side, a noisy neighbour (one namespace's backlog against another's single patch, with and
// without fairness in one run), and a 429 storm on one account while another works. Each
// scenario adds the namespaces, accounts and Secrets it needs to the world and reads readiness
// from its own watch over all namespaces.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import { Informer, KubeListWatch } from '../src/runtime/index.ts';
import { GROUP, PLURAL, VERSION } from '../src/vpsserver/types.ts';
import { type Arrival, inParallel, isReady, now, sleep, type VpsObject, type World } from './world.ts';

export const BUDGET_SCENARIOS = ['accounts', 'neighbour', 'storm', 'shards'] as const;
export type BudgetScenario = (typeof BUDGET_SCENARIOS)[number];

export interface AccountsResult {
  accounts: number;
  perAccount: number;
  ratePerSecond: number;
  /** apply → all Ready, ms; and the slowest account's */
  allReadyMs: number;
  boundMs: number;
  throttled: number;
  retryAfterViolations: number;
}

export interface NeighbourResult {
  fairness: boolean;
  backlog: number;
  /** B's spec patch → its PATCH reaching the provider, ms, one per sample */
  delaysMs: number[];
  /** creates of A that reached the provider during the samples */
  backlogCreates: number;
  /** samples still waiting after SAMPLE_CAP_MS (counted as that; the run stops there) */
  capped: number;
}

const SAMPLE_CAP_MS = 90_000;

export interface StormResult {
  stormMs: number;
  ratePerSecond: number;
  /** account 2's provider calls per second during the storm */
  otherRate: number;
  /** account 1's calls during the storm (each answered 429) */
  stormedCalls: number;
  retryAfterViolations: number;
}

export interface ShardsResult {
  shards: number;
  servers: number;
  ratePerSecond: number;
  leaseDurationMs: number;
  /** apply → all Ready, ms */
  allReadyMs: number;
  /** the most provider calls seen in any 1-s window, and the mean rate while converging */
  maxPerSecond: number;
  meanPerSecond: number;
  throttled: number;
  retryAfterViolations: number;
  /** kill -9 of one shard → every other shard logged the new split, ms */
  resplitMs: number;
}

export interface BudgetResults {
  accounts?: AccountsResult;
  neighbour: NeighbourResult[];
  storm?: StormResult;
  shards?: ShardsResult;
}

export interface BudgetSettings {
  only: ReadonlySet<BudgetScenario>;
  ratePerSecond: number;
  provisioningWallMs: number;
  perAccount: number;
  backlog: number;
  neighbourSamples: number;
  stormMs: number;
  /** servers per shard in the shards scenario */
  perShard: number;
}

const p99 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] ?? Number.NaN;
};
export const percentile99 = p99;

/** Namespaces, accounts and Secrets added to a world, with a watch over every namespace. */
async function tenants(w: World, names: string[]) {
  const cp = w.options.cp;
  const admin = cp.adminKubeConfig;
  const core = admin.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const made: { ns: string; token: string; account: string }[] = [];
  for (const name of names) {
    const ns = await cp.createNamespace(`bench-${name}`);
    const token = `bench-${name}-${Math.random().toString(16).slice(2, 10)}`;
    w.simulator.sim.state.addAccount({ name: `acct-${name}-${ns}`, token, credits: 1e12 });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'acct-token' }, stringData: { token } },
    });
    made.push({ ns, token, account: `acct-${name}-${ns}` });
  }
  const readyAt = new Map<string, number>();
  const informer = new Informer<VpsObject>({
    listWatch: new KubeListWatch<VpsObject>({
      kubeConfig: admin,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
    }),
    logger: pino({ level: 'silent' }),
    resyncPeriodMs: 0,
  });
  const key = (o: VpsObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const seen = (o: VpsObject) => {
    if (isReady(o) && !readyAt.has(key(o))) readyAt.set(key(o), now());
  };
  informer.addEventHandler({ onAdd: seen, onUpdate: (_a, o) => seen(o) });
  informer.start();
  await informer.waitForCacheSync();
  const create = (ns: string, names: string[]) =>
    inParallel(names, 20, async (name) => {
      await retryingTransient(() =>
        custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: ns,
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'VpsServer',
            metadata: { name },
            spec: { planId: 1, osId: 5, location: 'us-west', credentialsSecretRef: { name: 'acct-token' } },
          },
        }),
      );
    });
  const patch = (ns: string, name: string, body: Record<string, unknown>) =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const get = (ns: string, name: string) => informer.get(`${ns}/${name}`) as VpsObject | undefined;
  return { made, readyAt, create, patch, get, stop: () => informer.stop() };
}

/**
 * Sends a create again when the connection broke (a loaded API server resets one now and then;
 * a neighbour run once died of one ECONNRESET among 3,000 creates); a retry that finds the
 * object made by the first attempt (409) is done.
 */
async function retryingTransient(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt > 1 && code === 409) return;
      const transient = err instanceof TypeError && String(err.message).includes('fetch failed');
      if (!transient || attempt >= 5) throw err;
      await sleep(200 * attempt);
    }
  }
}

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

/** 4 accounts × N at R each: all Ready within ~N/R + provisioning, as one account alone would. */
export async function accountsScenario(w: World, s: BudgetSettings, log: (l: string) => void) {
  const t = await tenants(w, ['a1', 'a2', 'a3', 'a4']);
  try {
    await (
      await w.restartOperator({
        apiRatePerSecond: s.ratePerSecond,
        extraArgs: ['--namespaces', t.made.map((m) => m.ns).join(',')],
      })
    ).cachesSyncedAt;
    w.simulator.resetStats();
    log(`accounts: ${t.made.length} × ${s.perAccount} at R=${s.ratePerSecond}/s each…`);
    const start = now();
    await Promise.all(t.made.map((m) => t.create(m.ns, names('srv', s.perAccount))));
    const total = t.made.length * s.perAccount;
    await w.waitUntil(
      () => t.readyAt.size >= total,
      `${total} Ready`,
      20 * 60_000,
      () => `${t.readyAt.size}/${total}`,
    );
    const allReadyMs = Math.max(...t.readyAt.values()) - start;
    const stats = w.simulator.stats();
    const r: AccountsResult = {
      accounts: t.made.length,
      perAccount: s.perAccount,
      ratePerSecond: s.ratePerSecond,
      allReadyMs,
      boundMs:
        ((s.perAccount + Math.ceil(s.perAccount / 100)) / s.ratePerSecond) * 1000 + s.provisioningWallMs,
      throttled: stats.throttled,
      retryAfterViolations: stats.retryAfterViolations,
    };
    log(
      `accounts: all Ready in ${(allReadyMs / 1000).toFixed(1)} s (bound ${(r.boundMs / 1000).toFixed(1)} s), 429s ${r.throttled}`,
    );
    return r;
  } finally {
    await w.stopOperator();
    await t.stop();
  }
}

/** Namespace A applies a backlog; B (same account) patches one server every 5 s. */
export async function neighbourScenario(
  w: World,
  s: BudgetSettings,
  fairness: boolean,
  log: (l: string) => void,
): Promise<NeighbourResult> {
  const t = await tenants(w, [`na${fairness ? 'f' : 'u'}`, `nb${fairness ? 'f' : 'u'}`]);
  const [a, b] = t.made as [(typeof t.made)[0], (typeof t.made)[0]];
  // One account: B uses A's token.
  const core = w.options.cp.adminKubeConfig.makeApiClient(CoreV1Api);
  await core.replaceNamespacedSecret({
    name: 'acct-token',
    namespace: b.ns,
    body: { metadata: { name: 'acct-token' }, stringData: { token: a.token } },
  });
  try {
    await (
      await w.restartOperator({
        apiRatePerSecond: s.ratePerSecond,
        extraArgs: ['--namespaces', `${a.ns},${b.ns}`, '--api-fairness', String(fairness)],
      })
    ).cachesSyncedAt;
    await t.create(b.ns, ['patched']);
    await w.waitUntil(() => t.readyAt.has(`${b.ns}/patched`), 'B Ready', 120_000);
    const serverId = t.get(b.ns, 'patched')?.status?.serverId;
    const patches: number[] = [];
    let creates = 0;
    const stopCounting = w.simulator.recordArrivals((arr: Arrival) => {
      if (arr.method === 'PATCH' && arr.path.includes(`/servers/${serverId}/`)) patches.push(arr.at);
      if (arr.method === 'POST' && arr.endpoint === 'create') creates++;
    });
    log(`neighbour (fairness ${fairness ? 'on' : 'off'}): A applies ${s.backlog}, B patches every 5 s…`);
    // Handled at once: a failure while the samples run must not end the process unhandled.
    const backlog = t.create(a.ns, names('noisy', s.backlog)).catch((err: unknown) => {
      log(`neighbour: the backlog's creates failed: ${String(err)}`);
    });
    await sleep(5_000);
    const delays: number[] = [];
    // Without fairness each patch waits behind the backlog (minutes): a few samples, each capped.
    const samples = fairness ? s.neighbourSamples : Math.min(3, s.neighbourSamples);
    let capped = 0;
    for (let i = 0; i < samples; i++) {
      const seen = patches.length;
      const at = now();
      await t.patch(b.ns, 'patched', { spec: { hostname: `b-${fairness ? 'f' : 'u'}-${i}.example.com` } });
      // The next patch waits for this one to arrive: sent earlier, it would fold into it.
      while (patches.length === seen && now() - at < SAMPLE_CAP_MS) await sleep(20);
      if (patches.length === seen) {
        capped++;
        delays.push(SAMPLE_CAP_MS);
        break;
      }
      delays.push((patches[seen] as number) - at);
      const rest = at + 5_000 - now();
      if (rest > 0) await sleep(rest);
    }
    stopCounting();
    await backlog;
    const r = { fairness, backlog: s.backlog, delaysMs: delays, backlogCreates: creates, capped };
    log(
      `neighbour (fairness ${fairness ? 'on' : 'off'}): B's patch → provider p99 ${(p99(delays) / 1000).toFixed(2)} s over ${delays.length}`,
    );
    return r;
  } finally {
    await w.stopOperator();
    await t.stop();
  }
}

/** Account 1 is answered 429 for `stormMs` while account 2 converges. */
export async function stormScenario(
  w: World,
  s: BudgetSettings,
  log: (l: string) => void,
): Promise<StormResult> {
  const t = await tenants(w, ['s1', 's2']);
  const [one, two] = t.made as [(typeof t.made)[0], (typeof t.made)[0]];
  try {
    await (
      await w.restartOperator({
        apiRatePerSecond: s.ratePerSecond,
        extraArgs: ['--namespaces', `${one.ns},${two.ns}`],
      })
    ).cachesSyncedAt;
    w.simulator.resetStats();
    const arrivals: Arrival[] = [];
    const stop = w.simulator.recordArrivals((a) => arrivals.push(a));
    log(`storm: account 1 answered 429 for ${s.stormMs / 1000} s while account 2 converges…`);
    w.simulator.sim.state.setFaults({ accounts: [one.account], errorRate: 1, errorStatuses: [429] });
    const start = now();
    const n = Math.ceil((s.stormMs / 1000) * s.ratePerSecond * 1.5);
    void t
      .create(one.ns, names('stormed', 50))
      .catch((err: unknown) => log(`storm: creates failed: ${String(err)}`));
    void t
      .create(two.ns, names('calm', n))
      .catch((err: unknown) => log(`storm: creates failed: ${String(err)}`));
    await sleep(s.stormMs);
    w.simulator.sim.state.setFaults(null);
    stop();
    const stats = w.simulator.stats();
    // Account 2's calls in the storm, after its first 5 s (the creates arriving from the API server).
    const tokenTwoCalls = arrivals.filter(
      (a) => a.at >= start + 5_000 && a.status !== 429 && a.status !== undefined,
    );
    const stormed = arrivals.filter((a) => a.status === 429).length;
    const r: StormResult = {
      stormMs: s.stormMs,
      ratePerSecond: s.ratePerSecond,
      otherRate: tokenTwoCalls.length / ((s.stormMs - 5_000) / 1000),
      stormedCalls: stormed,
      retryAfterViolations: stats.retryAfterViolations,
    };
    log(
      `storm: account 2 at ${r.otherRate.toFixed(2)}/s (R=${s.ratePerSecond}), account 1 made ${stormed} calls, violations ${r.retryAfterViolations}`,
    );
    return r;
  } finally {
    await w.stopOperator();
    await t.stop();
  }
}

/** The most arrivals inside any window of `windowMs` (a window starts at each arrival). */
export function busiestWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (j < t.length && (t[j] as number) < (t[i] as number) + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/**
 * Three shards (label selectors, --api-rate-shared) on the world's one token, each told the
 * account's full R: together the provider must see no more than R a second and answer no 429;
 * then one shard is killed and the two left must take halves within about a lease duration.
 */
export async function shardsScenario(
  w: World,
  s: BudgetSettings,
  log: (l: string) => void,
): Promise<ShardsResult> {
  const names = ['a', 'b', 'c'];
  const leaseDurationMs = 15_000;
  const lastSplit = new Map<string, number>();
  const custom = w.options.cp.adminKubeConfig.makeApiClient(CustomObjectsApi);
  try {
    const shards = await Promise.all(
      names.map((n) =>
        w.startShard({
          apiRatePerSecond: s.ratePerSecond,
          extraArgs: [
            '--label-selector',
            `shard=${n}`,
            '--leader-election-namespace',
            'vps-operator-system',
            '--leader-election-id',
            `vps-bench-shard-${n}`,
            '--api-rate-shared',
          ],
          onLine: (line) => {
            if (!line.includes('account rate split between shards')) return;
            lastSplit.set(n, (JSON.parse(line) as { shards: number }).shards);
          },
        }),
      ),
    );
    await Promise.all(shards.map((p) => p.cachesSyncedAt));
    const arrivals: number[] = [];
    let throttled = 0;
    w.simulator.resetStats();
    const stop = w.simulator.recordArrivals((a) => {
      arrivals.push(a.at);
      if (a.status === 429) throttled++;
    });
    log(`shards: ${names.length} shards on one token at R=${s.ratePerSecond}/s, ${s.perShard} servers each…`);
    const start = now();
    const all = names.flatMap((n) =>
      Array.from({ length: s.perShard }, (_, i) => ({ n, name: `shard-${n}-${String(i).padStart(4, '0')}` })),
    );
    await inParallel(all, 20, async ({ n, name }) => {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: w.namespace,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'VpsServer',
          metadata: { name, labels: { shard: n } },
          spec: { planId: 1, osId: 5, location: 'us-west' },
        },
      });
    });
    const ready = () => all.filter(({ name }) => w.readyAt.has(name)).length;
    await w.waitUntil(
      () => ready() === all.length,
      `${all.length} Ready`,
      20 * 60_000,
      () => `${ready()}/${all.length}`,
    );
    const allReadyMs = Math.max(...all.map(({ name }) => w.readyAt.get(name) ?? 0)) - start;
    stop();
    const stats = w.simulator.stats();
    const during = arrivals.filter((t) => t <= start + allReadyMs);
    const killedAt = now();
    await shards[2]?.kill();
    await w.waitUntil(
      () => lastSplit.get('a') === 2 && lastSplit.get('b') === 2,
      'the two shards left take halves',
      3 * leaseDurationMs,
      () => JSON.stringify(Object.fromEntries(lastSplit)),
    );
    const r: ShardsResult = {
      shards: names.length,
      servers: all.length,
      ratePerSecond: s.ratePerSecond,
      leaseDurationMs,
      allReadyMs,
      maxPerSecond: busiestWindow(during, 1000),
      meanPerSecond: during.length / (allReadyMs / 1000),
      throttled,
      retryAfterViolations: stats.retryAfterViolations,
      resplitMs: now() - killedAt,
    };
    log(
      `shards: all Ready in ${(allReadyMs / 1000).toFixed(1)} s, busiest second ${r.maxPerSecond} calls, 429s ${throttled}; re-split ${(r.resplitMs / 1000).toFixed(1)} s after a kill`,
    );
    return r;
  } finally {
    await w.stopOperator();
  }
}

/** The Markdown section of these figures. */
export function formatBudgets(r: BudgetResults, s: BudgetSettings): string {
  const out: string[] = ['## 6. Provider budgets', ''];
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (r.accounts !== undefined) {
    const a = r.accounts;
    out.push(
      `**${a.accounts} accounts × ${a.perAccount}**, R = ${a.ratePerSecond}/s per token: all Ready in ${sec(a.allReadyMs)}, ${(a.allReadyMs / a.boundMs).toFixed(2)}× the bound of one account alone (${sec(a.boundMs)} = (${a.perAccount} creates + list pages) / R + provisioning; target ≤ 1.1×; one shared budget would need ≈ ${a.accounts}×). 429s: ${a.throttled}; Retry-After violations: ${a.retryAfterViolations}.`,
      '',
    );
  }
  if (r.neighbour.length > 0) {
    out.push(
      `**Noisy neighbour**: namespace A applies ${s.backlog.toLocaleString('en')} servers; namespace B (same account) patches one server every 5 s; B's patch → its PATCH at the provider (target p99 < 1 s).`,
      '',
      `| Fairness | samples | p50 | p99 | max | A creates meanwhile |`,
      '|---|---|---|---|---|---|',
    );
    for (const n of r.neighbour) {
      const sorted = [...n.delaysMs].sort((x, y) => x - y);
      out.push(
        `| ${n.fairness ? 'on (`--api-fairness true`, default)' : 'off (`--api-fairness false`)'} | ${n.delaysMs.length} | ${sec(sorted[Math.floor(sorted.length / 2)] ?? 0)} | ${n.capped > 0 ? '≥ ' : ''}${sec(p99(n.delaysMs))} | ${n.capped > 0 ? '≥ ' : ''}${sec(sorted.at(-1) ?? 0)} | ${n.backlogCreates} |`,
      );
    }
    out.push('');
  }
  if (r.storm !== undefined) {
    const st = r.storm;
    out.push(
      `**429 storm**: account 1 answered 429 for every call during ${sec(st.stormMs)} while account 2 applies servers: account 2 made ${st.otherRate.toFixed(2)} calls/s = ${(st.otherRate / st.ratePerSecond).toFixed(2)} R (target ≥ 0.9 R); account 1 made ${st.stormedCalls} calls in the storm (its budget pauses for each Retry-After and halves its rate); Retry-After violations: ${st.retryAfterViolations}.`,
      '',
    );
  }
  if (r.shards !== undefined) {
    const h = r.shards;
    out.push(
      `**${h.shards} shards on one token** (\`--api-rate-shared\`, each told \`--api-rate ${h.ratePerSecond}/s\`, provider limit R = ${h.ratePerSecond}/s), ${h.servers} servers: all Ready in ${sec(h.allReadyMs)}; the provider saw at most ${h.maxPerSecond} calls arrive in any 1-s window (mean ${h.meanPerSecond.toFixed(2)}/s; target ≤ R: the shards' pacers start at most 4 + 3 + 3 calls in any second, and calls started 1 s apart can arrive a few tens of ms closer); 429s: ${h.throttled}; Retry-After violations: ${h.retryAfterViolations}. One shard killed (SIGKILL): the two left logged halves ${sec(h.resplitMs)} later (lease duration ${sec(h.leaseDurationMs)}; target within one).`,
      '',
    );
  }
  return out.join('\n');
}
