// The namespaces whose labels match a selector, kept by a watch of namespaces that the API
// server filters by that selector: a namespace that gains the label arrives as an add, one
// that loses it as a delete, so a policy change by label takes effect at run time without the
// operator matching selectors itself (and exactly as kubectl -l would).
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer, stripManagedFields } from '../runtime/informer.ts';
import { KubeListWatch } from '../runtime/kube-list-watch.ts';

export class NamespaceSet {
  readonly #informer: Informer<KubernetesObject>;

  constructor(options: {
    kubeConfig: KubeConfig;
    labelSelector: string;
    logger: Logger;
    /** A namespace started or stopped matching. */
    onChange: (namespace: string) => void;
  }) {
    this.#informer = new Informer<KubernetesObject>({
      listWatch: new KubeListWatch({
        kubeConfig: options.kubeConfig,
        path: '/api/v1/namespaces',
        labelSelector: options.labelSelector,
      }),
      resyncPeriodMs: 0,
      transform: stripManagedFields,
      logger: options.logger,
    });
    const changed = (ns: KubernetesObject) => options.onChange(ns.metadata?.name ?? '');
    this.#informer.addEventHandler({ onAdd: changed, onDelete: changed });
  }

  has(namespace: string): boolean {
    // Namespaces are cluster-scoped: their informer key is the bare name.
    return this.#informer.get(namespace) !== undefined;
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
}
