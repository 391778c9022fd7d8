/**
 * The tiny multimodal fixtures (testing/tiny-vlm.ts) through llama.cpp's own `llama-mtmd-cli`, built
 * from the sources node-llama-cpp ships (scripts/build-llama-server.sh; cached outside the clone):
 * both projector types load, greedy text is deterministic and depends on the image, and the bad
 * mmproj variants fail with llama.cpp's own messages. Skips when the binary is not built.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { llamaCppBin, llamaCppSkip } from "../testing/llama-cpp-bin.js";
import { testImage, writeMismatchedMmproj, writeRgbPng, writeTinyVlm, writeTruncatedMmproj, type TinyVlm, type VlmProjector } from "../testing/tiny-vlm.js";

const BIN = llamaCppBin("llama-mtmd-cli", "XRAYGPT_LLAMA_MTMD_CLI");
const skip = llamaCppSkip(BIN, "llama-mtmd-cli", "XRAYGPT_LLAMA_MTMD_CLI");

let dir: string;
const pngs: Record<string, string> = {};

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "xraygpt-mtmd-cli-"));
  for (const p of ["gradient", "checker", "disc"] as const) pngs[p] = await writeRgbPng(join(dir, `${p}.png`), testImage(32, p));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One run of llama-mtmd-cli (greedy); its stdout is the generated text (latin1: bytes as they are). */
function cli(vlm: TinyVlm, image: string, mmproj = vlm.mmproj): { status: number | null; text: string; stderr: string } {
  const r = spawnSync(BIN, ["-m", vlm.gguf, "--mmproj", mmproj, "--image", image, "-p", "Describe the image.", "-n", "24", "--temp", "0", "-c", "512", "-t", "1", "--seed", "1"], {
    timeout: 120_000,
  });
  return { status: r.status, text: r.stdout.toString("latin1"), stderr: r.stderr.toString("utf8") };
}

/*
 * The CLI logs through llama.cpp's asynchronous logger, which it leaks on purpose (common/log.cpp,
 * llama.cpp issue 22142): what is still queued when the process exits is lost, so any one run's
 * stdout is a prefix of the generated text, and its stderr may miss the last lines.
 */

/** The greedy text for an image: the longest of 3 runs, each checked to be a prefix of it. */
function greedyText(vlm: TinyVlm, image: string): string {
  const runs = [0, 1, 2].map(() => cli(vlm, image));
  for (const r of runs) assert.equal(r.status, 0, r.stderr.slice(-2000));
  const text = runs.map((r) => r.text).reduce((a, b) => (b.length > a.length ? b : a));
  for (const r of runs) assert.ok(text.startsWith(r.text), `greedy text differs between runs on the same image: ${JSON.stringify(r.text)} vs ${JSON.stringify(text)}`);
  assert.ok(text.trim().length > 0, "no text generated");
  return text;
}

/** Two texts differ at a position both have (so neither is a cut-off copy of the other). */
function diverge(a: string, b: string): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return true;
  return false;
}

/** A run that must fail: its exit status, and stderr from a run whose log reached its last line (up to 3 runs). */
function failingRun(vlm: TinyVlm, mmproj: string): { status: number | null; stderr: string } {
  let r = cli(vlm, pngs.gradient!, mmproj);
  for (let i = 0; i < 2 && r.status !== 0 && !r.stderr.includes("Failed to load vision model"); i++) r = cli(vlm, pngs.gradient!, mmproj);
  return r;
}

for (const projector of ["mlp", "gemma3"] as VlmProjector[]) {
  describe(`llama-mtmd-cli on the tiny ${projector} fixture`, { skip }, () => {
    let vlm: TinyVlm;
    before(async () => {
      vlm = await writeTinyVlm(dir, { projector, seed: 3 });
    });

    test("loads, generates deterministically, and different images give different greedy text", () => {
      const texts = [pngs.gradient!, pngs.checker!, pngs.disc!].map((png) => greedyText(vlm, png));
      const pairs = [diverge(texts[0]!, texts[1]!), diverge(texts[0]!, texts[2]!), diverge(texts[1]!, texts[2]!)];
      assert.ok(pairs.filter(Boolean).length >= 2, `different images gave the same greedy text: ${JSON.stringify(texts)}`);
    });

    test("an mmproj whose width does not match the LLM fails with mtmd's mismatch message", async () => {
      const r = failingRun(vlm, await writeMismatchedMmproj(dir, vlm));
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`mismatch between text model \\(n_embd = ${vlm.llmEmbd}\\) and mmproj \\(n_embd = ${vlm.llmEmbd + 16}\\)`));
    });

    test("a truncated mmproj, or a text-only GGUF as mmproj, fails to load", async () => {
      const truncated = await writeTruncatedMmproj(vlm, join(dir, `truncated-${projector}.gguf`));
      for (const bad of [truncated, vlm.gguf]) {
        const r = failingRun(vlm, bad);
        assert.notEqual(r.status, 0, `${bad} loaded`);
        assert.ok(r.stderr.includes(`Failed to load CLIP model from ${bad}`), r.stderr.slice(-1500));
      }
    });
  });
}
