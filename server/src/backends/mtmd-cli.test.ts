/**
 * The tiny multimodal fixtures (testing/tiny-vlm.ts) through llama.cpp's own `llama-mtmd-cli`, built
 * from the sources node-llama-cpp ships (scripts/build-llama-server.sh; cached outside the clone):
 * both projector types load, greedy text is deterministic and depends on the image, and the bad
 * mmproj variants fail with llama.cpp's own messages. Skips when the binary is not built.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
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

const PROMPT = "Describe the image.";
const ARGS = ["-n", "24", "--temp", "0", "-c", "512", "-t", "1", "--seed", "1"];

/** One run of llama-mtmd-cli with `-p` (it exits after one answer): status and stderr. */
function cli(vlm: TinyVlm, image: string, mmproj = vlm.mmproj): { status: number | null; stderr: string } {
  const r = spawnSync(BIN, ["-m", vlm.gguf, "--mmproj", mmproj, "--image", image, "-p", PROMPT, ...ARGS], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

/*
 * The CLI logs (its answer too) through llama.cpp's asynchronous logger, which it leaks on purpose
 * (common/log.cpp, llama.cpp issue 22142): what is still queued when the process exits is lost, so
 * the answer of a `-p` run can come out cut short or empty. The greedy text is read from its chat
 * mode instead: the "\n> " prompt it logs after the answer means the answer is all out; only then
 * does the test send /quit. (The chat mode echoes the lines it reads.)
 */
const MARK = "\n> ";

/** The greedy answer to PROMPT about one image (latin1: the bytes as they are). */
function greedyText(vlm: TinyVlm, image: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ["-m", vlm.gguf, "--mmproj", vlm.mmproj, ...ARGS], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let sent = 0;
    const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
    p.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      const marks = out.split(MARK).length - 1;
      if (marks >= 1 && sent === 0) p.stdin.write(`/image ${image}\n`), sent++;
      if (marks >= 2 && sent === 1) p.stdin.write(`${PROMPT}\n`), sent++;
      if (marks >= 3 && sent === 2) p.stdin.end("/quit\n"), sent++;
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      if (sent < 3) return reject(new Error(`llama-mtmd-cli (${code}) did not answer: ${err.slice(-1500)}`));
      const end = out.split(MARK).slice(0, 3).join(MARK).length;
      const start = out.lastIndexOf(`${PROMPT}\n`, end) + PROMPT.length + 1;
      resolve(out.slice(start, end));
    });
  });
}

/** A run that must fail (it exits at once): its status, and stderr from a run whose log got out to its last line (up to 5 runs). */
function failingRun(vlm: TinyVlm, mmproj: string): { status: number | null; stderr: string } {
  let r = cli(vlm, pngs.gradient!, mmproj);
  for (let i = 0; i < 4 && r.status !== 0 && !r.stderr.includes("Failed to load vision model"); i++) r = cli(vlm, pngs.gradient!, mmproj);
  return r;
}

for (const projector of ["mlp", "gemma3"] as VlmProjector[]) {
  describe(`llama-mtmd-cli on the tiny ${projector} fixture`, { skip }, () => {
    let vlm: TinyVlm;
    before(async () => {
      vlm = await writeTinyVlm(dir, { projector, seed: 3 });
    });

    test("loads, generates deterministically, and different images give different greedy text", async () => {
      const texts: string[] = [];
      for (const png of [pngs.gradient!, pngs.checker!, pngs.disc!]) texts.push(await greedyText(vlm, png));
      assert.ok(texts[0]!.trim().length > 0, "no text generated");
      assert.equal(await greedyText(vlm, pngs.gradient!), texts[0], "greedy text differs between two runs on the same image");
      assert.equal(new Set(texts).size, 3, `different images gave the same greedy text: ${JSON.stringify(texts)}`);
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
