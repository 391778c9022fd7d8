/**
 * A fair job queue: at most `parallel` jobs run at once; waiting jobs are taken round-robin
 * across owners (clients/windows), FIFO within an owner. A job whose signal aborts while
 * waiting leaves the queue at once.
 */
export interface QueueHooks {
  signal?: AbortSignal;
  /** Called with the job's place in the queue (0 = next) whenever it changes. */
  onPosition?(position: number): void;
}

interface Waiting {
  owner: string;
  start(): void;
  hooks: QueueHooks;
  lastPosition?: number;
}

export class AbortedError extends Error {
  override name = "AbortError";
  constructor() {
    super("cancelled while queued");
  }
}

export class JobQueue {
  private running = 0;
  private waiting: Waiting[] = [];
  private lastServed: string[] = [];
  private listeners = new Set<() => void>();

  constructor(private readonly parallel = 1) {}

  get size(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Run `job` when a slot is free. */
  run<T>(owner: string, job: () => Promise<T>, hooks: QueueHooks = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (hooks.signal?.aborted) return reject(new AbortedError());
      const entry: Waiting = {
        owner,
        hooks,
        start: () => {
          hooks.signal?.removeEventListener("abort", onAbort);
          this.running++;
          this.changed();
          job()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.pump();
            });
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(new AbortedError());
          this.pump();
        }
      };
      hooks.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.parallel && this.waiting.length > 0) {
      const next = servingOrder(this.waiting, this.lastServed)[0]!;
      this.waiting.splice(this.waiting.indexOf(next), 1);
      this.lastServed = [...this.lastServed.filter((o) => o !== next.owner), next.owner];
      next.start();
    }
    servingOrder(this.waiting, this.lastServed).forEach((w, position) => {
      if (w.lastPosition !== position) {
        w.lastPosition = position;
        w.hooks.onPosition?.(position);
      }
    });
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

/**
 * The order waiting jobs will be served in: repeatedly the first waiting job of the owner
 * served longest ago (owners never served first), FIFO within an owner.
 */
export function servingOrder<T extends { owner: string }>(waiting: readonly T[], lastServed: readonly string[]): T[] {
  const rest = [...waiting];
  const served = [...lastServed];
  const order: T[] = [];
  while (rest.length) {
    const heads = rest.filter((w, i) => rest.findIndex((x) => x.owner === w.owner) === i);
    const next = heads.reduce((a, b) => (served.lastIndexOf(b.owner) < served.lastIndexOf(a.owner) ? b : a));
    rest.splice(rest.indexOf(next), 1);
    const k = served.indexOf(next.owner);
    if (k >= 0) served.splice(k, 1);
    served.push(next.owner);
    order.push(next);
  }
  return order;
}
