// The provider's server state machine as pure rules: which power action is allowed in which
// state, which transitional state it enters, where each transitional state ends, and when an
// update must wait. The store applies them; keeping them here makes every rule one table row.

import type { KnownServerState, PowerAction } from '../vpsorg/wire.ts';

export type TransitionalState = 'provisioning' | 'starting' | 'stopping' | 'rebooting';
export type SettledState = 'active' | 'stopped';

/** Where each transitional state ends once its duration has passed. */
export const TRANSITION_TARGET: Record<TransitionalState, SettledState> = {
  provisioning: 'active',
  starting: 'active',
  stopping: 'stopped',
  rebooting: 'active',
};

export function isTransitional(state: KnownServerState): state is TransitionalState {
  return Object.hasOwn(TRANSITION_TARGET, state);
}

export type PowerDecision = { ok: true; enters: TransitionalState } | { ok: false; message: string };

/** Why the provider refuses any change while it is busy: the message names the state. */
export function busyMessage(state: TransitionalState): string {
  return `Server is ${state}. Try again when the current operation has finished.`;
}

export const SUSPENDED_MESSAGE = 'Server is suspended.';

/**
 * What `action` does to a server in `state`. The seeds document "already running" (start) and
 * "not running" (reboot); the rest (stop on a stopped server, anything while busy or suspended)
 * is this simulator's assumption, answered with the same 400 style.
 */
export function decidePowerAction(state: KnownServerState, action: PowerAction): PowerDecision {
  if (isTransitional(state)) return { ok: false, message: busyMessage(state) };
  if (state === 'suspended') return { ok: false, message: SUSPENDED_MESSAGE };
  switch (action) {
    case 'start':
      return state === 'stopped'
        ? { ok: true, enters: 'starting' }
        : { ok: false, message: 'Server is already running.' };
    case 'stop':
      return state === 'active'
        ? { ok: true, enters: 'stopping' }
        : { ok: false, message: 'Server is already stopped.' };
    case 'reboot':
      return state === 'active'
        ? { ok: true, enters: 'rebooting' }
        : { ok: false, message: 'Server is not running.' };
  }
}

/**
 * Why PUT/PATCH is refused in `state`, or null when allowed. Updates wait out transitions
 * (the provider is rewriting the machine) but are allowed while suspended: name, hostname and
 * backups are account metadata, not the machine.
 */
export function updateRefusal(state: KnownServerState): string | null {
  return isTransitional(state) ? busyMessage(state) : null;
}
