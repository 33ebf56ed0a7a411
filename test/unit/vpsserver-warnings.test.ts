// stallWarningDue() as a table: one Warning per stall, none for a pass that re-reads a stall
// already warned about, a new one once the spec, the credentials or the stall itself changed.
import { describe, expect, it } from 'vitest';
import type { VpsServerStatus } from '../../src/vpsserver/types.ts';
import { type StallWarning, stallWarningDue } from '../../src/vpsserver/warnings.ts';

const stall: StallWarning = {
  generation: 1,
  credentialsVersion: 'v1',
  reason: 'ProviderRejected',
  message: 'fix spec.planId: VPS.org has no plan 99',
};
const shown = (
  o: Partial<{ reason: string; message: string; observedGeneration: number }> = {},
): VpsServerStatus => ({
  conditions: [
    {
      type: 'Stalled',
      status: 'True',
      reason: stall.reason,
      message: stall.message,
      observedGeneration: 1,
      lastTransitionTime: '2026-12-02T17:00:00Z',
      ...o,
    },
  ],
});

const rows: [string, StallWarning, StallWarning | undefined, VpsServerStatus, boolean][] = [
  ['a first stall is warned about', stall, undefined, {}, true],
  ['a pass re-reading the stall it warned about is not', stall, stall, shown(), false],
  ['a changed spec (generation) warns again', { ...stall, generation: 2 }, stall, shown(), true],
  ['changed credentials warn again', { ...stall, credentialsVersion: 'v2' }, stall, shown(), true],
  [
    'a changed refusal warns again',
    { ...stall, message: 'fix spec.osId: VPS.org has no OS 77' },
    stall,
    shown(),
    true,
  ],
  ['another reason warns again', { ...stall, reason: 'InsufficientCredits' }, stall, shown(), true],
  [
    'after a restart, a stall the status already shows is not warned about again',
    stall,
    undefined,
    shown(),
    false,
  ],
  [
    'after a restart, a stall the status shows for an older generation is',
    { ...stall, generation: 2 },
    undefined,
    shown(),
    true,
  ],
  [
    'after a restart, a different stall than the status shows is',
    stall,
    undefined,
    shown({ message: 'other' }),
    true,
  ],
  [
    'a paused resource is not warned about: the user chose it',
    { ...stall, reason: 'Paused' },
    undefined,
    {},
    false,
  ],
];

describe('stallWarningDue', () => {
  it.each(rows)('%s', (_, candidate, last, status, due) => {
    expect(stallWarningDue(candidate, last, status)).toBe(due);
  });
});
