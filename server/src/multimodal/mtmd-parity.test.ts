/**
 * Parity of libmtmd's image embeddings (the addon's MtmdContext.encodeImage) with an independent
 * numpy forward pass of the same weights (test/reference/mtmd_vision.py, which reads the mmproj
 * GGUF itself), for both tiny VLM fixtures (testing/tiny-vlm.ts): the LLaVA `mlp` projector over a
 * CLIP tower and the Gemma 3 projector over a SigLIP tower.
 *
 * Images of the tower's own size, and of other sizes, which clip.cpp scales (aspect kept), resamples
 * (Pillow-style bicubic / bilinear) and pads to a square; the reference does the same.
 *
 * Tolerance: max |mtmd - reference| <= 3e-3 x max |reference| (the reference is float64 with exact
 * GELU; ggml's CPU kernels use float32, fp16 lookup tables for GELU / quick-GELU, and fp16 K/V in
 * flash attention; measured 5e-4 to 9e-4 x max |reference| here).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { loadSoftTokenAddon, type NativeModel } from "../softtoken/addon.js";
import { maxAbsDiff, tempDir } from "../softtoken/test-support.js";
import { referenceImageEmbeddings, referenceUnavailable } from "../testing/mtmd-reference.js";
import { testImage, writeTinyVlm, type TinyVlm, type VlmProjector } from "../testing/tiny-vlm.js";
import { loadMtmdAddon, type NativeMtmdContext } from "./mtmd-addon.js";

const RELATIVE_TOLERANCE = 3e-3;

const mtmd = loadMtmdAddon();
const embed = loadSoftTokenAddon({ gpu: false });
const skip = !mtmd.ok ? mtmd.reason : !embed.ok ? `the soft-token addon is unavailable: ${embed.reason}` : referenceUnavailable();

const dir = tempDir("mtmd-parity");
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

for (const projector of ["mlp", "gemma3"] as VlmProjector[]) {
  describe(`mtmd image embeddings of the tiny ${projector} fixture`, { skip }, () => {
    let vlm: TinyVlm;
    let model: NativeModel;
    let ctx: NativeMtmdContext;
    before(async () => {
      if (!mtmd.ok || !embed.ok) return;
      vlm = await writeTinyVlm(dir, { projector, seed: 5 });
      model = await embed.addon.loadModel(vlm.gguf, { gpuLayers: 0 });
      ctx = new mtmd.MtmdContext(model, vlm.mmproj, { useGpu: false, threads: 1 });
    });
    after(() => {
      ctx?.free();
      model?.free();
    });

    const cases = [
      { name: "gradient, the tower's size", pattern: "gradient", width: 0, height: 0 },
      { name: "noise, the tower's size", pattern: "noise", width: 0, height: 0 },
      { name: "disc 48x40, scaled down and padded", pattern: "disc", width: 48, height: 40 },
      { name: "noise 20x26, scaled up and padded", pattern: "noise", width: 20, height: 26 },
    ] as const;
    for (const c of cases) {
      test(`equal the numpy reference forward pass (${c.name})`, (t) => {
        const image = testImage(c.width || vlm.imageSize, c.pattern, 7, c.height || vlm.imageSize);
        const got = ctx.encodeImage(image);
        const ref = referenceImageEmbeddings(vlm.mmproj, image);
        assert.equal(got.nTokens, vlm.nImageTokens);
        assert.equal(ref.nTokens, vlm.nImageTokens);
        assert.equal(got.dim, vlm.llmEmbd);
        assert.equal(ref.dim, vlm.llmEmbd);
        const scale = maxAbs(ref.embeddings);
        const diff = maxAbsDiff(got.embeddings, ref.embeddings);
        t.diagnostic(`${projector} ${c.name}: max |mtmd - reference| = ${diff.toExponential(2)}, max |reference| = ${scale.toFixed(3)}, ratio ${(diff / scale).toExponential(2)} (tolerance ${RELATIVE_TOLERANCE})`);
        assert.ok(scale > 0.1, `reference embeddings are ~0 (max ${scale})`);
        assert.ok(diff <= RELATIVE_TOLERANCE * scale, `max |mtmd - reference| = ${diff} > ${RELATIVE_TOLERANCE} x ${scale}`);
      });
    }

    test("two different images give different embeddings (in mtmd and in the reference)", () => {
      const a = testImage(vlm.imageSize, "gradient");
      const b = testImage(vlm.imageSize, "checker");
      const ea = ctx.encodeImage(a).embeddings;
      const eb = ctx.encodeImage(b).embeddings;
      const scale = maxAbs(ea);
      assert.ok(maxAbsDiff(ea, eb) > 50 * RELATIVE_TOLERANCE * scale, "mtmd embeddings barely change with the image");
      const ra = referenceImageEmbeddings(vlm.mmproj, a).embeddings;
      const rb = referenceImageEmbeddings(vlm.mmproj, b).embeddings;
      assert.ok(maxAbsDiff(ra, rb) > 50 * RELATIVE_TOLERANCE * scale, "reference embeddings barely change with the image");
      assert.ok(maxAbsDiff(ea, rb) > 50 * RELATIVE_TOLERANCE * scale, "mtmd's embeddings of one image match the reference's of another");
    });
  });
}
