// Whose work a provider call is done for (a flow of the call budget: the namespace of the
// resource being reconciled), carried by AsyncLocalStorage from the reconcile that makes the
// call down to the budget. The provider port the domain defines has six methods and a paged
// list between the reconcile and the budget; threading a namespace through each would put a
// scheduling concern into every signature. OpenTelemetry carries its context the same way.
import { AsyncLocalStorage } from 'node:async_hooks';

const flows = new AsyncLocalStorage<string>();

/** Runs `fn` with `flow` as the flow of every budgeted call it makes (also after awaits). */
export function withCallFlow<T>(flow: string, fn: () => T): T {
  return flows.run(flow, fn);
}

/** The flow of the work running now, if any. */
export function currentCallFlow(): string | undefined {
  return flows.getStore();
}
