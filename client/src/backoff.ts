/**
 * Bounded restart policy for the daemon: restart after 0.5 s, 1 s, 2 s, 4 s, 8 s; give up after
 * `maxRestarts` crashes within `windowMs` (a crash older than the window is forgotten).
 */
export interface BackoffOptions {
  maxRestarts?: number;
  windowMs?: number;
  baseMs?: number;
  maxDelayMs?: number;
}

export class RestartPolicy {
  private crashes: number[] = [];
  constructor(private readonly opts: BackoffOptions = {}) {}

  /** Records a crash at `now`; returns the delay before restarting, or undefined to give up. */
  onCrash(now: number): number | undefined {
    const windowMs = this.opts.windowMs ?? 3 * 60_000;
    this.crashes = this.crashes.filter((t) => now - t < windowMs);
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n > (this.opts.maxRestarts ?? 5)) return undefined;
    return Math.min((this.opts.baseMs ?? 500) * 2 ** (n - 1), this.opts.maxDelayMs ?? 8000);
  }

  reset(): void {
    this.crashes = [];
  }
}
