/**
 * The endpoints of a remote model (several `baseUrls` serving the same model): which one a request
 * goes to, and which are down. A request takes the least loaded endpoint that is up and has a
 * free slot (`perEndpoint` requests each), waiting for one when all up endpoints are full. An
 * endpoint that fails is down for a backoff that doubles with each failure in a row (1 s, 2 s,
 * 4 s … 30 s); when that has passed it takes one request at a time (a probe) until one succeeds.
 */
import type { RemoteEndpointHealth } from "@xraygpt/protocol";

export interface Endpoint {
  readonly url: string;
  inFlight: number;
  /** Failures in a row; 0 when the last request succeeded. */
  failures: number;
  /** Not used before then (ms since epoch). */
  downUntil: number;
  lastError?: string;
}

/** Requests in flight per endpoint when the manifest says nothing (`backend.maxConcurrency`). */
export const REMOTE_MAX_CONCURRENCY = 4;
export const DOWN_BASE_MS = 1_000;
export const DOWN_MAX_MS = 30_000;

export class EndpointPool {
  readonly endpoints: Endpoint[];
  private readonly waiters = new Set<() => void>();

  constructor(
    urls: readonly string[],
    private readonly perEndpoint: number,
    /** Called when an endpoint goes down or comes back. */
    private readonly onChange: () => void = () => {},
  ) {
    this.endpoints = urls.map((u) => ({ url: u.replace(/\/+$/, ""), inFlight: 0, failures: 0, downUntil: 0 }));
  }

  private limit(e: Endpoint): number {
    return e.failures > 0 ? 1 : this.perEndpoint;
  }

  /**
   * A slot on the least loaded endpoint that is up, not in `skip` (those this request already
   * failed on), waiting while every such endpoint is full; undefined when none is up (or when
   * `signal` aborts). Give the slot back with `release`.
   */
  async acquire(skip: ReadonlySet<Endpoint>, signal?: AbortSignal): Promise<Endpoint | undefined> {
    for (;;) {
      if (signal?.aborted) return undefined;
      const now = Date.now();
      const up = this.endpoints.filter((e) => !skip.has(e) && e.downUntil <= now);
      if (!up.length) return undefined;
      const free = up.filter((e) => e.inFlight < this.limit(e));
      if (free.length) {
        const ep = free.reduce((a, b) => (b.inFlight < a.inFlight || (b.inFlight === a.inFlight && b.failures < a.failures) ? b : a));
        ep.inFlight++;
        return ep;
      }
      // Full: wait for a slot, or for a down endpoint's backoff to end.
      const soonest = Math.min(...this.endpoints.filter((e) => !skip.has(e) && e.downUntil > now).map((e) => e.downUntil - now));
      await this.changed(signal, soonest);
    }
  }

  release(ep: Endpoint): void {
    ep.inFlight--;
    this.wake();
  }

  succeeded(ep: Endpoint): void {
    if (ep.failures === 0) return;
    ep.failures = 0;
    ep.downUntil = 0;
    delete ep.lastError;
    this.wake();
    this.onChange();
  }

  failed(ep: Endpoint, message: string): void {
    ep.failures++;
    ep.downUntil = Date.now() + Math.min(DOWN_MAX_MS, DOWN_BASE_MS * 2 ** (ep.failures - 1));
    ep.lastError = message;
    this.wake();
    this.onChange();
  }

  /** Ms until the first down endpoint may be tried again (0 when one is up). */
  nextUpInMs(): number {
    const now = Date.now();
    return Math.max(0, Math.min(...this.endpoints.map((e) => e.downUntil - now)));
  }

  health(): RemoteEndpointHealth[] {
    const now = Date.now();
    return this.endpoints.map((e) => ({
      url: e.url,
      up: e.failures === 0,
      inFlight: e.inFlight,
      failures: e.failures,
      ...(e.downUntil > now ? { retryInMs: e.downUntil - now } : {}),
      ...(e.lastError ? { lastError: e.lastError } : {}),
    }));
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves at the next release / failure / success, after `ms` (when finite), or when `signal` aborts. */
  private changed(signal: AbortSignal | undefined, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
