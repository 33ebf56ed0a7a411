// The provider's power-action and update rules, one row per state and action.
import { describe, expect, it } from 'vitest';
import {
  decidePowerAction,
  type PowerDecision,
  type TransitionalState,
  updateRefusal,
} from '../../src/simulator/server-state.ts';
import type { KnownServerState, PowerAction } from '../../src/vpsorg/wire.ts';

const enters = (state: TransitionalState): PowerDecision => ({ ok: true, enters: state });
const refused = (message: string): PowerDecision => ({ ok: false, message });
const busy = (state: string) =>
  refused(`Server is ${state}. Try again when the current operation has finished.`);

describe('decidePowerAction', () => {
  it.each<[KnownServerState, PowerAction, PowerDecision]>([
    ['stopped', 'start', enters('starting')],
    ['active', 'start', refused('Server is already running.')],
    ['active', 'stop', enters('stopping')],
    ['stopped', 'stop', refused('Server is already stopped.')],
    ['active', 'reboot', enters('rebooting')],
    ['stopped', 'reboot', refused('Server is not running.')],
    ['suspended', 'start', refused('Server is suspended.')],
    ['suspended', 'stop', refused('Server is suspended.')],
    ['suspended', 'reboot', refused('Server is suspended.')],
    ['provisioning', 'start', busy('provisioning')],
    ['provisioning', 'reboot', busy('provisioning')],
    ['starting', 'stop', busy('starting')],
    ['stopping', 'start', busy('stopping')],
    ['rebooting', 'reboot', busy('rebooting')],
  ])('%s server asked to %s answers %j', (state, action, want) => {
    expect(decidePowerAction(state, action)).toEqual(want);
  });
});

describe('updateRefusal', () => {
  it.each<KnownServerState>(['active', 'stopped', 'suspended'])('allows updates of a %s server', (state) => {
    expect(updateRefusal(state)).toBeNull();
  });

  it.each<KnownServerState>(['provisioning', 'starting', 'stopping', 'rebooting'])(
    'refuses updates while %s, naming the state',
    (state) => {
      expect(updateRefusal(state)).toContain(`Server is ${state}.`);
    },
  );
});
