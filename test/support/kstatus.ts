// kstatus, the status rules Flux (`wait: true`), kpt and cli-utils' status poller apply to a
// custom resource, restated from sigs.k8s.io/cli-utils pkg/kstatus/status (generic.go, status.go)
// so tests can check that a VpsServer means to those tools what the operator means. The Go
// library cannot run here; its generic rules are short and stable:
//  1. metadata.deletionTimestamp set → Terminating;
//  2. status.observedGeneration present and ≠ metadata.generation → InProgress;
//  3. the first condition Reconciling=True → InProgress, or Stalled=True → Failed;
//  4. otherwise Current (a custom resource has no type-specific rules, and Ready is not read).

export type KStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating';

interface Obj {
  metadata?: { generation?: number; deletionTimestamp?: string | Date };
  status?: {
    observedGeneration?: number;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      observedGeneration?: number;
    }[];
  };
}

export function kstatus(o: Obj): { status: KStatus; message: string } {
  if (o.metadata?.deletionTimestamp !== undefined && String(o.metadata.deletionTimestamp) !== '')
    return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  const generation = o.metadata?.generation;
  const observed = o.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed !== generation)
    return {
      status: 'InProgress',
      message: `VpsServer generation is ${generation}, but latest observed generation is ${observed}`,
    };
  for (const c of o.status?.conditions ?? []) {
    if (c.type === 'Reconciling' && c.status === 'True')
      return { status: 'InProgress', message: c.message ?? '' };
    if (c.type === 'Stalled' && c.status === 'True') return { status: 'Failed', message: c.message ?? '' };
  }
  return { status: 'Current', message: 'Resource is current' };
}

/**
 * What `kubectl wait --for=condition=Ready` waits for (k8s.io/kubectl pkg/cmd/wait/condition.go):
 * the first Ready condition is True, and its observedGeneration (else status.observedGeneration)
 * is not below metadata.generation.
 */
export function kubectlReady(o: Obj): boolean {
  const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined) return false;
  const generation = o.metadata?.generation;
  const observed = ready.observedGeneration ?? o.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) return false;
  return ready.status === 'True';
}

/**
 * Whether the two tools agree: kstatus Current exactly when Ready=True (at the current generation);
 * Failed or InProgress otherwise, never Current while `kubectl wait` would still be waiting.
 */
export function toolsAgree(o: Obj): boolean {
  const s = kstatus(o).status;
  if (s === 'Terminating') return true;
  return (s === 'Current') === kubectlReady(o);
}
