/**
 * `npm run bench -- http`: the same model annotating in process and through `xraygpt serve --http`
 * (a child process, real HTTP, the remote backend of a manifest made like `models add-remote`),
 * in interleaved rounds; annotate throughput at several concurrencies against it; and the serve
 * process's RSS (with its model process) and latency over many short chat requests.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import type { GenerationSettings } from "@xraygpt/protocol";
import { XrayEngine } from "../engine/engine.js";
import { annotateBatch } from "../annotate/annotate.js";
import { addRemoteModel } from "../models/remote-manifest.js";
import { startHttpDaemon } from "../testing/http-daemon.js";
import { quantile, treeRssMb } from "./bench-clients.js";

export interface HttpBenchOptions {
  dir: string;
  modelsDir: string;
  /** The local model annotating (in process, and behind serve --http), and its manifest. */
  model: string;
  manifest: string;
  /** A local model for the many short requests. */
  requestModel: string;
  /** Images each annotate round runs over. */
  images: string[];
  /** A small PNG for the many-requests run. */
  smallImage: string;
  generation: GenerationSettings;
  rounds: number;
  concurrencies: number[];
  requests: number;
  requestMaxTokens: number;
  threads: number;
}

export interface HttpBenchResult {
  inProcessImagesPerMin: number;
  httpImagesPerMin: number;
  /** Images/min against serve --http at each of `concurrencies`. */
  byConcurrency: { concurrency: number; imagesPerMin: number }[];
  /** Per-image wall time of the annotate rounds through HTTP at concurrency 1. */
  annotateP50Ms: number;
  annotateP99Ms: number;
  requestP50Ms: number;
  requestP99Ms: number;
  /** After 10 warm-up requests, after the first 10% of the run, at the end (serve and its model processes). */
  rssStartMb: number;
  rssEarlyMb: number;
  rssEndMb: number;
  requestErrors: number;
}

const median = (xs: number[]) => quantile(xs, 0.5);

export async function benchHttp(o: HttpBenchOptions): Promise<HttpBenchResult> {
  const server = await startHttpDaemon(["--models-dir", o.modelsDir, "--no-auth", "--device", "cpu"], { ...process.env, XRAYGPT_THREADS: String(o.threads) });
  const remoteDir = join(o.dir, "remote-models");
  const maxConcurrency = Math.max(...o.concurrencies);
  await addRemoteModel({ id: "bench-remote", modelsDir: remoteDir, fromManifest: o.manifest, backend: { baseUrls: [server.url], model: o.model, maxConcurrency, sendFindings: false } });
  const engine = new XrayEngine({ modelsDirs: [o.modelsDir, remoteDir], threads: o.threads, device: "cpu" });
  let logs = 0;
  /** One annotate batch into a fresh log: images/min and the per-image wall times. */
  const annotate = async (model: string, concurrency: number) => {
    const t = performance.now();
    const walls: number[] = [];
    const s = await annotateBatch({ engine, images: o.images, out: join(o.dir, `http-bench-${logs++}.jsonl`), model, generation: o.generation, concurrency, onProgress: (p) => p.record && walls.push(p.record.wallMs) });
    if (s.failed > 0 || s.annotated !== o.images.length) throw new Error(`annotate ${model}: ${s.failed} failed of ${o.images.length}`);
    return { perMin: (o.images.length * 60_000) / (performance.now() - t), walls };
  };
  try {
    // Warm both paths (model loads, the serve process's first request).
    await annotate(o.model, 1);
    await annotate("bench-remote", 1);
    const local: number[] = [];
    const http: number[] = [];
    const walls: number[] = [];
    const byC = new Map<number, number[]>(o.concurrencies.map((c) => [c, []]));
    for (let round = 0; round < o.rounds; round++) {
      local.push((await annotate(o.model, 1)).perMin);
      const h = await annotate("bench-remote", 1);
      http.push(h.perMin);
      walls.push(...h.walls);
      for (const c of o.concurrencies) byC.get(c)!.push(c === 1 ? h.perMin : (await annotate("bench-remote", c)).perMin);
    }

    // Many short requests straight at the server: latency, and whether its memory stays flat.
    const png = `data:image/png;base64,${readFileSync(o.smallImage).toString("base64")}`;
    const ask = async (i: number) => {
      const t = performance.now();
      const res = await fetch(`${server.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: o.requestModel, max_tokens: o.requestMaxTokens, stream: i % 2 === 1, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: png } }, { type: "text", text: `Question ${i}: is there an effusion?` }] }] }),
      });
      await res.text();
      return { ms: performance.now() - t, ok: res.ok };
    };
    for (let i = 0; i < 10; i++) await ask(i);
    const rssStartMb = treeRssMb(server.child.pid!);
    let rssEarlyMb = rssStartMb;
    const latencies: number[] = [];
    let errors = 0;
    let issued = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (issued < o.requests) {
          const r = await ask(issued++);
          latencies.push(r.ms);
          if (!r.ok) errors++;
          // After the first 10%: the server's bounded caches (chat sessions, conversations) are full.
          if (latencies.length === Math.round(o.requests / 10)) rssEarlyMb = treeRssMb(server.child.pid!);
        }
      }),
    );
    const rssEndMb = treeRssMb(server.child.pid!);
    return {
      inProcessImagesPerMin: median(local),
      httpImagesPerMin: median(http),
      byConcurrency: o.concurrencies.map((c) => ({ concurrency: c, imagesPerMin: median(byC.get(c)!) })),
      annotateP50Ms: quantile(walls, 0.5),
      annotateP99Ms: quantile(walls, 0.99),
      requestP50Ms: quantile(latencies, 0.5),
      requestP99Ms: quantile(latencies, 0.99),
      rssStartMb,
      rssEarlyMb,
      rssEndMb,
      requestErrors: errors,
    };
  } finally {
    await engine.dispose();
    await server.stop();
  }
}
