/**
 * Benchmark for `npm run bench`: decode + toGrayBytes + preprocess (the daemon's path) of a 2048×2048 16-bit uncompressed
 * DICOM (goal ≤ 25 ms per image, warm). Writes the file to a temp folder, median of 20 runs.
 */
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import type { VisionSpec } from "../../models/manifest.js";
import { preprocess } from "../preprocess.js";
import { decodeImage, toGrayBytes } from "./index.js";
import { fixtureDir, syntheticGrey, writeDicom } from "../../testing/dicom-fixtures.js";

const SIZE = 2048;
const RUNS = 20;
const INPUT: VisionSpec["input"] = { name: "image", width: 224, height: 224, channels: 1, mean: [0.5], std: [0.25] };

export async function benchDecode(): Promise<{ msPerImage: number }> {
  const fixtures = fixtureDir();
  try {
    const file = join(fixtures.dir, "bench-2048.dcm");
    writeDicom(file, {
      width: SIZE,
      height: SIZE,
      pixels: syntheticGrey(SIZE, SIZE, 65535),
      bitsStored: 16,
      windowCenter: [30000],
      windowWidth: [40000],
    });
    const once = async () => {
      const img = await decodeImage(file);
      return preprocess(toGrayBytes(img), INPUT);
    };
    for (let i = 0; i < 3; i++) await once(); // warm-up: codecs, tables, JIT
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await once();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { msPerImage: times[Math.floor(RUNS / 2)]! };
  } finally {
    fixtures.remove();
  }
}

// `node server/dist/pipeline/decode/bench-decode.js` prints the figure on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { msPerImage } = await benchDecode();
  console.log(`decode+toGray+preprocess 2048×2048 16-bit DICOM: ${msPerImage.toFixed(1)} ms per image (goal ≤ 25)`);
}
