// Whether a pass that leaves its resource Stalled records a Warning event: once per stall, not
// once per pass. A refusal the operator remembers is re-read by every later pass (status writes,
// resyncs, Secret checks), and an Event per pass read "ProviderRejected (x4 over 5s)" for one
// refused call. A new Warning is due only when the spec (generation), the credentials or the
// stall itself (reason, message) changed. Pure, table-tested in test/unit/vpsserver-warnings.test.ts.
import type { VpsServerStatus } from './types.ts';

/** A stall as far as its Warning is concerned. */
export interface StallWarning {
  generation: number;
  /** The credentials' version ('' when there are none). */
  credentialsVersion: string;
  reason: string;
  message: string;
}

/** Reasons that are Stalled by the user's own choice: reported in status, not warned about. */
const CHOSEN: ReadonlySet<string> = new Set(['Paused']);

/**
 * `lastWarned`: the Warning this process last recorded for the resource while it stayed Stalled
 * (forgotten when it stops being Stalled). Without one (e.g. after a restart), the status written
 * before this pass tells whether this very stall was already reported at this generation.
 */
export function stallWarningDue(
  stall: StallWarning,
  lastWarned: StallWarning | undefined,
  statusBefore: VpsServerStatus,
): boolean {
  if (CHOSEN.has(stall.reason)) return false;
  if (lastWarned !== undefined)
    return !(
      lastWarned.generation === stall.generation &&
      lastWarned.credentialsVersion === stall.credentialsVersion &&
      lastWarned.reason === stall.reason &&
      lastWarned.message === stall.message
    );
  const shown = statusBefore.conditions?.find((c) => c.type === 'Stalled');
  return !(
    shown?.status === 'True' &&
    shown.reason === stall.reason &&
    shown.message === stall.message &&
    shown.observedGeneration === stall.generation
  );
}
