// Records Kubernetes Events (core/v1, what `kubectl describe` and `kubectl get events` show) for
// an object. Identical events for one object within a short window are folded into one with a
// higher count, as client-go's EventRecorder does, so a retry loop cannot flood etcd.
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, segment } from '../runtime/index.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  target: EventTarget;
  type: EventType;
  /** One CamelCase word, e.g. ServerCreated. */
  reason: string;
  message: string;
}

export interface EventRecorderOptions {
  /** Shown as the event's source (reportingComponent). Default vps-operator. */
  component?: string;
  /** Identical events within this window are folded into one. Default 10 minutes. */
  foldWindowMs?: number;
  now?: () => number;
  /** Called when writing an event fails: events are best effort and never fail a reconcile. */
  onError?: (err: unknown, event: RecordedEvent) => void;
  /** Called right before every write is sent; throwing refuses it (the lease guard: a stale leader writes nothing). */
  beforeWrite?: () => void;
}

export class EventRecorder {
  readonly #kc: KubeConfig;
  readonly #component: string;
  readonly #foldWindowMs: number;
  readonly #now: () => number;
  readonly #onError: (err: unknown, event: RecordedEvent) => void;
  readonly #beforeWrite: () => void;
  readonly #recent = new Map<string, { name: string; count: number; first: number; last: number }>();

  constructor(kc: KubeConfig, options: EventRecorderOptions = {}) {
    this.#kc = kc;
    this.#component = options.component ?? 'vps-operator';
    this.#foldWindowMs = options.foldWindowMs ?? 600_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#beforeWrite = options.beforeWrite ?? (() => {});
  }

  async record(event: RecordedEvent): Promise<void> {
    try {
      await this.#write(event);
    } catch (err) {
      this.#onError(err, event);
    }
  }

  async #write({ target, type, reason, message }: RecordedEvent): Promise<void> {
    const now = this.#now();
    const { namespace, name, uid } = target.metadata;
    const foldKey = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    this.#prune(now);
    const seen = this.#recent.get(foldKey);
    if (seen !== undefined) {
      seen.count += 1;
      seen.last = now;
      await kubeRequest(this.#kc, {
        method: 'PATCH',
        path: `${eventsPath(namespace)}/${segment(seen.name)}`,
        contentType: 'application/json-patch+json',
        beforeSend: this.#beforeWrite,
        body: [
          { op: 'replace', path: '/count', value: seen.count },
          { op: 'replace', path: '/lastTimestamp', value: new Date(now).toISOString() },
        ],
      });
      return;
    }
    const eventName = `${name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const body: CoreV1Event = {
      metadata: { name: eventName, namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name,
        namespace,
        uid,
        resourceVersion: target.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      count: 1,
      firstTimestamp: new Date(now),
      lastTimestamp: new Date(now),
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#component,
    };
    await kubeRequest(this.#kc, {
      method: 'POST',
      path: eventsPath(namespace),
      body,
      beforeSend: this.#beforeWrite,
    });
    this.#recent.set(foldKey, { name: eventName, count: 1, first: now, last: now });
  }

  #prune(now: number) {
    if (this.#recent.size < 1000) {
      for (const [k, v] of this.#recent) if (now - v.first > this.#foldWindowMs) this.#recent.delete(k);
      return;
    }
    this.#recent.clear();
  }
}

const eventsPath = (namespace: string): string => `/api/v1/namespaces/${segment(namespace)}/events`;
