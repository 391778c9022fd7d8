// Multimodal models (a GGUF + its mmproj, llama.cpp's libmtmd) end to end: `xraygpt models add`,
// the daemon over JSON-RPC (stdio) with the model in a model process, and the CLI, on the tiny
// random-weight fixtures of testing/tiny-vlm.ts (LLaVA's `mlp` projector and Gemma 3's `gemma3`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { ResponseError } from "vscode-jsonrpc/node.js";
import { ChatRequest, FindingsRequest, ModelsRequest, StatusRequest, SummarizeRequest, TokenNotification, type TokenParams } from "@xraygpt/protocol";
import { startStdioDaemon, type StdioDaemon } from "../testing/stdio-daemon.js";
import { writeSyntheticPng } from "../testing/workspace.js";
import { testImage, writeMismatchedMmproj, writeTinyVlm, writeTruncatedMmproj, type TinyVlm, type VlmProjector } from "../testing/tiny-vlm.js";
import { loadMtmdAddon } from "../multimodal/mtmd-addon.js";
import { SoftTokenGenerator } from "../softtoken/generator.js";
import { DEFAULT_RADIOLOGY_INSTRUCTION, DEFAULT_SYSTEM_PROMPT } from "../models/multimodal-manifest.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));
const PROJECTORS: VlmProjector[] = ["mlp", "gemma3"];
const GREEDY = { maxTokens: 12, temperature: 0 };

const mtmd = loadMtmdAddon();
let dir: string;
let modelsDir: string;
const vlms = new Map<VlmProjector, TinyVlm>();
const images: string[] = [];
let daemon: StdioDaemon;
const env = () => ({ ...process.env, XRAYGPT_THREADS: "1", XRAYGPT_MODELS_DIR: modelsDir });

function xraygpt(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", input, env: env(), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A multimodal manifest written by hand (as a user might), so the daemon meets files `models add` would refuse. */
async function handWritten(id: string, gguf: string, mmproj: string): Promise<void> {
  await mkdir(join(modelsDir, id), { recursive: true });
  const manifest = {
    id,
    name: id,
    version: "1",
    license: "test fixture",
    llm: { file: gguf, mmproj, contextSize: 512 },
    conditioning: { mode: "multimodal" },
    prompt: { template: "<ImageHere>\n{prompt}", stop: [], defaultPrompt: "Describe." },
    generation: { maxTokens: 8, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 0 },
  };
  await writeFile(join(modelsDir, id, "model.json"), JSON.stringify(manifest));
}

describe("multimodal models (GGUF + mmproj through libmtmd)", { skip: mtmd.ok ? false : mtmd.reason }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xraygpt-mtmd-test-"));
    modelsDir = join(dir, "models");
    const files = join(dir, "files");
    await mkdir(files, { recursive: true });
    for (const projector of PROJECTORS) vlms.set(projector, await writeTinyVlm(files, { projector, seed: 5 }));
    // Two 8-bit grey images (what the pipeline gives a multimodal model, as RGB): a radiograph-like
    // pattern and a checkerboard.
    images.push(join(dir, "cxr-0.png"), join(dir, "checker.png"));
    await writeSyntheticPng(images[0]!, 0, 64, 64);
    const checker = testImage(64, "checker");
    await sharp(Buffer.from(checker.data.filter((_, i) => i % 3 === 0)), { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(images[1]!);
    for (const projector of PROJECTORS) {
      const r = xraygpt(["models", "add", `tiny-${projector}`, "--gguf", vlms.get(projector)!.gguf, "--mmproj", vlms.get(projector)!.mmproj, "--ctx", "512"]);
      assert.equal(r.code, 0, r.stderr);
    }
    const mlp = vlms.get("mlp")!;
    await handWritten("bad-truncated", mlp.gguf, await writeTruncatedMmproj(mlp, join(files, "truncated-mmproj.gguf")));
    await handWritten("bad-width", mlp.gguf, await writeMismatchedMmproj(files, mlp));
    await handWritten("bad-text-only", mlp.gguf, mlp.gguf);
    await handWritten("bad-missing", mlp.gguf, join(files, "no-such-mmproj.gguf"));
    daemon = await startStdioDaemon(modelsDir, "tiny-mlp", env());
  });

  after(async () => {
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("models add prints what it found; models lists both as multimodal", () => {
    const r = xraygpt(["models", "add", "again", "--gguf", vlms.get("gemma3")!.gguf, "--mmproj", vlms.get("gemma3")!.mmproj, "--models-dir", join(dir, "other")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*other\/again\/model\.json/);
    assert.match(r.stdout, /n_embd 48/);
    assert.match(r.stdout, /projector gemma3, image 32 px, output width 48 = n_embd/);
    const listed = xraygpt(["models", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const models = JSON.parse(listed.stdout) as { id: string; available: boolean; conditioning: string; problem?: string }[];
    for (const p of PROJECTORS) assert.ok(models.some((m) => m.id === `tiny-${p}` && m.available && m.conditioning === "multimodal"), `tiny-${p}: ${JSON.stringify(models)}`);
  });

  it("models add refuses a truncated, width-mismatched, text-only or missing mmproj, naming the file", async () => {
    const mlp = vlms.get("mlp")!;
    const files = join(dir, "files");
    const cases: [string, RegExp][] = [
      [join(files, "truncated-mmproj.gguf"), /truncated-mmproj\.gguf is truncated/],
      [join(files, "mismatched-mlp-mmproj.gguf"), /mismatched-mlp-mmproj\.gguf outputs embeddings of width 64 .* has n_embd 48/],
      [mlp.gguf, /tiny-mlp-llm\.gguf is not a vision projector: its general.architecture is "llama"/],
      [join(files, "no-such-mmproj.gguf"), /no-such-mmproj\.gguf does not exist/],
    ];
    for (const [mmproj, message] of cases) {
      const r = xraygpt(["models", "add", "refused", "--gguf", mlp.gguf, "--mmproj", mmproj]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
    }
    const swapped = xraygpt(["models", "add", "refused", "--gguf", mlp.mmproj, "--mmproj", mlp.gguf]);
    assert.match(swapped.stderr, /is a vision projector .* not a language model/);
  });

  for (const projector of PROJECTORS) {
    it(`${projector}: two different images give different greedy text through the daemon`, async () => {
      const run = (image: string) => daemon.rpc.sendRequest(SummarizeRequest, { jobId: `${projector}-${image}`, image, model: `tiny-${projector}`, generation: GREEDY });
      const [a, b] = [await run(images[0]!), await run(images[1]!)];
      assert.equal(a.timings.tokens, GREEDY.maxTokens);
      assert.notEqual(a.text, b.text);
      // Without a classifier, the findings are read from the generated text, and say so.
      assert.equal(a.findings.source, "text");
    });

    it(`${projector}: greedy text through the daemon equals a direct addon call on the same pixels and prompt`, async () => {
      const tokens: TokenParams[] = [];
      const d = daemon.rpc.onNotification(TokenNotification, (p) => p.jobId === `direct-${projector}` && tokens.push(p));
      const viaDaemon = await daemon.rpc.sendRequest(SummarizeRequest, { jobId: `direct-${projector}`, image: images[1]!, model: `tiny-${projector}`, generation: GREEDY });
      d.dispose();
      assert.equal(tokens.map((t) => t.text).join("").trim(), viaDaemon.text);
      const vlm = vlms.get(projector)!;
      const g = new SoftTokenGenerator();
      try {
        await g.load(vlm.gguf, { gpu: false, gpuLayers: 0, contextSize: 512, threads: 1 });
        g.attachProjector(vlm.mmproj, { useGpu: false, threads: 1 });
        const { data, info } = await sharp(images[1]!).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
        const text = g.applyChatTemplate([
          { role: "system", content: DEFAULT_SYSTEM_PROMPT },
          { role: "user", content: `${g.mediaMarker}\n${DEFAULT_RADIOLOGY_INSTRUCTION}` },
        ]);
        const settings = { maxTokens: GREEDY.maxTokens, temperature: 0, topP: 0.95, topK: 64, repeatPenalty: 1.05, seed: 0 };
        const direct = await g.generateMultimodal({ text, images: [{ data: new Uint8Array(data), width: info.width, height: info.height }], settings });
        assert.equal(viaDaemon.text, direct.text.trim());
        assert.equal(viaDaemon.timings.promptTokens, direct.promptTokens);
      } finally {
        await g.dispose();
      }
    });

    it(`${projector}: a chat's second turn re-uses the image's KV (prompt tokens counted as cached)`, async () => {
      const model = `tiny-${projector}`;
      const first = await daemon.rpc.sendRequest(ChatRequest, { jobId: `chat1-${projector}`, image: images[0]!, model, message: "Is there a pleural effusion?", generation: { maxTokens: 4 } });
      const second = await daemon.rpc.sendRequest(ChatRequest, { jobId: `chat2-${projector}`, image: images[0]!, sessionId: first.sessionId, message: "And the heart?", generation: { maxTokens: 4 } });
      assert.equal(second.timings.visionMs, 0);
      assert.ok(first.timings.promptTokens > vlm(projector).nImageTokens);
      assert.ok(second.timings.cachedPromptTokens >= first.timings.promptTokens - 1, `cached ${second.timings.cachedPromptTokens}, first prompt ${first.timings.promptTokens}`);
      assert.ok(second.timings.promptTokens > first.timings.promptTokens);
    });
  }

  it("bad projectors fail with an error naming the file; the daemon keeps serving the bundled model", async () => {
    const cases: [string, RegExp][] = [
      ["bad-truncated", /truncated-mmproj\.gguf is truncated/],
      ["bad-width", /mismatched-mlp-mmproj\.gguf: mismatch between text model \(n_embd = 48\) and mmproj \(n_embd = 64\)/],
      ["bad-text-only", /tiny-mlp-llm\.gguf is not a vision projector/],
      ["bad-missing", /missing file\(s\): .*no-such-mmproj\.gguf/],
    ];
    for (const [model, message] of cases) {
      const e = await daemon.rpc.sendRequest(SummarizeRequest, { jobId: `bad-${model}`, image: images[0]!, model }).then(
        () => assert.fail(`${model} gave a summary`),
        (err: unknown) => err as ResponseError<unknown>,
      );
      assert.ok(e instanceof ResponseError, String(e));
      assert.match(e.message, message, model);
    }
    const models = await daemon.rpc.sendRequest(ModelsRequest, {});
    assert.ok(models.models.find((m) => m.id === "bad-missing" && !m.available));
    const ok = await daemon.rpc.sendRequest(SummarizeRequest, { jobId: "bundled", image: images[0]!, model: "xraygpt-mini", generation: { maxTokens: 8, candidates: 1 } });
    assert.ok(ok.timings.tokens > 0);
    const again = await daemon.rpc.sendRequest(SummarizeRequest, { jobId: "mlp-after", image: images[0]!, model: "tiny-mlp", generation: GREEDY });
    assert.ok(again.timings.tokens > 0);
    assert.ok((await daemon.rpc.sendRequest(StatusRequest, {})).loadedModels.includes("tiny-mlp"));
  });

  it("findings of a model without a classifier come from its text; CLI summarize streams text", async () => {
    const f = await daemon.rpc.sendRequest(FindingsRequest, { image: images[0]!, model: "tiny-gemma3" });
    assert.equal(f.findings.source, "text");
    const r = xraygpt(["summarize", images[1]!, "--model", "tiny-mlp", "--max-tokens", "6", "--temperature", "0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Vision findings/);
    assert.match(r.stdout, /\S[\s\S]*\n\nFindings read from the model's text:\n {2}\S/);
  });
});

function vlm(projector: VlmProjector): TinyVlm {
  return vlms.get(projector)!;
}
