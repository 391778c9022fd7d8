/**
 * Window/level benchmark: frames per second of re-windowing a 2048×2048 16-bit image in headless
 * Chromium with media/window-level.js (LUT build + mapping + putImageData, one frame per
 * requestAnimationFrame). Goal: ≥ 30 frames/s. Run with `node client/out/bench/window-level-bench.js`.
 */
import { launchChromium, serveMedia } from "../testing/chromium.js";

export interface WindowLevelBench {
  fps: number;
  /** Mean milliseconds of work (LUT + map + putImageData) per frame, without waiting for frames. */
  workMsPerFrame: number;
  size: number;
  frames: number;
}

export async function benchWindowLevel(size = 2048, frames = 90): Promise<WindowLevelBench> {
  const server = await serveMedia();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.setPage("bench.html", `<!DOCTYPE html><html><body><canvas id="c"></canvas></body></html>`));
    const r = await page.evaluate(
      async ({ size, frames, src }) => {
        const wl = await import(src);
        const px = new Uint16Array(size * size);
        let s = 12345;
        for (let i = 0; i < px.length; i++) {
          s = (s * 1103515245 + 12345) >>> 0;
          px[i] = ((i % size) * 32 + (s >>> 20)) & 0xffff;
        }
        const canvas = document.getElementById("c") as HTMLCanvasElement;
        const renderer = wl.createRenderer(canvas);
        renderer.setImage(px, size, size);
        renderer.render(32768, 65536, false);
        const frame = () => new Promise((res) => requestAnimationFrame(res));
        await frame();
        let work = 0;
        const t0 = performance.now();
        for (let f = 0; f < frames; f++) {
          const w0 = performance.now();
          renderer.render(20000 + f * 300, 30000 + f * 100, f % 2 === 0);
          work += performance.now() - w0;
          await frame();
        }
        const total = performance.now() - t0;
        return { fps: (frames * 1000) / total, workMsPerFrame: work / frames };
      },
      { size, frames, src: `${server.origin}/media/window-level.js` },
    );
    return { ...r, size, frames };
  } finally {
    await browser.close();
    await server.close();
  }
}

if (require.main === module) {
  benchWindowLevel().then(
    (r) => console.log(`window/level ${r.size}x${r.size} 16-bit: ${r.fps.toFixed(1)} frames/s (goal >= 30), ${r.workMsPerFrame.toFixed(1)} ms work/frame`),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
