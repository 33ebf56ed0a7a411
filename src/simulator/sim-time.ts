// The simulator's notion of time: the injected wall clock plus an offset that tests can push
// forward (advance), and the time-scale that turns the provider's minutes into seconds.
// Timestamps stay wall-clock so created_at compares sensibly with the operator's own clock;
// only the durations of provisioning and power transitions shrink by the scale.

/** A range of simulated seconds; a duration is drawn uniformly from it. */
export interface SecondsRange {
  min: number;
  max: number;
}

export class SimTime {
  readonly #clock: () => number;
  readonly #timeScale: number;
  #offsetMs = 0;

  constructor(clock: () => number, timeScale: number) {
    this.#clock = clock;
    this.#timeScale = timeScale;
  }

  /** Milliseconds since the epoch, as the simulator sees them. */
  now(): number {
    return this.#clock() + this.#offsetMs;
  }

  /** Moves the simulator's time forward by `ms` of wall time (transitions due by then complete). */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Wall milliseconds that `simulatedSeconds` of provider time take at this time-scale. */
  wallMs(simulatedSeconds: number): number {
    return (simulatedSeconds * 1000) / this.#timeScale;
  }
}

/** ISO-8601 UTC without milliseconds, as in the provider's samples: "2025-01-16T15:30:00Z". */
export function isoTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
