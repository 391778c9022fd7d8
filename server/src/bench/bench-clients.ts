/**
 * Load on the shared daemon: N socket clients (like editor windows) each sending summaries one after
 * another (every 10th about an unreadable file) until R requests are done. Reports throughput,
 * latency p50/p99, Jain's fairness index over the clients' mean latencies (1 = every client waited
 * alike) and the daemon's RSS (with its model processes) after the first 10% of requests and at the end.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SummarizeRequest } from "@xraygpt/protocol";
import { connectClient, startSocketDaemon } from "../testing/socket-daemon.js";

export interface ClientsBenchOptions {
  dir: string;
  modelsDir: string;
  model: string;
  images: string[];
  clients: number;
  requests: number;
  maxTokens: number;
}

export interface ClientsBenchResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  jain: number;
  perClientMeanMs: { min: number; max: number };
  rssEarlyMb: number;
  rssEndMb: number;
  /** Requests that got an error (the unreadable-file ones, by design: 10%). */
  errors: number;
}

/** Jain's fairness index of xs: (Σx)² / (n·Σx²), 1 when all are equal, 1/n when one has everything. */
export function jainIndex(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** RSS in MB of a process and all its descendants (Linux /proc). */
export function treeRssMb(pid: number): number {
  let kb = 0;
  const visit = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
      for (const t of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").split(" ").filter(Boolean)) visit(Number(c));
      }
    } catch {
      // the process ended
    }
  };
  visit(pid);
  return kb / 1024;
}

export async function benchClients(o: ClientsBenchOptions): Promise<ClientsBenchResult> {
  const bad = join(o.dir, "unreadable.png");
  writeFileSync(bad, "not an image");
  const daemon = await startSocketDaemon(join(o.dir, "load.sock"), ["--models-dir", o.modelsDir, "--model", o.model]);
  try {
    const clients = await Promise.all(Array.from({ length: o.clients }, () => connectClient(daemon.path)));
    const latencies: number[][] = clients.map(() => []);
    let issued = 0;
    let done = 0;
    let errors = 0;
    let rssEarlyMb = 0;
    const early = Math.max(1, Math.round(o.requests / 10));
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, ci) => {
        while (issued < o.requests) {
          const n = issued++;
          const image = n % 10 === 9 ? bad : o.images[n % o.images.length]!;
          const t = performance.now();
          await c.rpc.sendRequest(SummarizeRequest, { jobId: `c${ci}-${n}`, image, generation: { maxTokens: o.maxTokens } }).catch(() => void errors++);
          latencies[ci]!.push(performance.now() - t);
          if (++done === early) rssEarlyMb = treeRssMb(daemon.child.pid!);
        }
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    const rssEndMb = treeRssMb(daemon.child.pid!);
    clients.forEach((c) => c.socket.destroy());
    const all = latencies.flat();
    const means = latencies.filter((l) => l.length > 0).map((l) => l.reduce((a, b) => a + b, 0) / l.length);
    return {
      requestsPerSecond: done / wallS,
      p50Ms: quantile(all, 0.5),
      p99Ms: quantile(all, 0.99),
      jain: jainIndex(means),
      perClientMeanMs: { min: Math.min(...means), max: Math.max(...means) },
      rssEarlyMb,
      rssEndMb,
      errors,
    };
  } finally {
    await daemon.stop();
  }
}
