// One wake-up for the earliest deadline the store holds. The store finds that deadline
// through its indexes, so keeping timers costs the same at one pending promise or a million.

/** Longest single sleep; also bounds how late a clock jump is noticed. */
const MAX_SLEEP_MS = 1_000;

export class TimerArm {
  readonly #clock: () => number;
  readonly #fire: () => void;
  #handle: NodeJS.Timeout | undefined;
  #armedFor: number | undefined;

  constructor(clock: () => number, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Wakes at `deadline` (ms since the epoch), or sooner if already armed for earlier. */
  arm(deadline: number | undefined): void {
    if (deadline === undefined) return;
    if (this.#armedFor !== undefined && this.#armedFor <= deadline) return;
    this.disarm();
    const delay = Math.min(Math.max(0, deadline - this.#clock()), MAX_SLEEP_MS);
    this.#armedFor = deadline;
    this.#handle = setTimeout(() => {
      this.#handle = undefined;
      this.#armedFor = undefined;
      this.#fire();
    }, delay);
    // A pending deadline alone must not keep a process alive that is otherwise done.
    this.#handle.unref();
  }

  get isArmed(): boolean {
    return this.#handle !== undefined;
  }

  disarm(): void {
    if (this.#handle) clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#armedFor = undefined;
  }
}
