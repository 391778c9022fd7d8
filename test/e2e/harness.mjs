// End-to-end harness: a fixture workspace (tiny models, a PNG and a DICOM), code-server 4.139.1
// (installed by scripts/setup-code-server.sh into ~/.cache/xraygpt/code-server) with the packaged extension, and Chromium driven by
// playwright-core. Screenshots go to test-results/e2e/.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const RESULTS = join(ROOT, "test-results", "e2e");
// Where scripts/setup-code-server.sh installs it: a cache outside the checkout, reused by every clone.
const CODE_SERVER_DIR = process.env.XRAYGPT_CODE_SERVER_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "xraygpt", "code-server");
const CODE_SERVER = join(CODE_SERVER_DIR, "code-server");
const CLI = join(ROOT, "server", "dist", "cli.js");

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
    s.on("error", rej);
  });
}

/**
 * The fixture workspace: models/fixture-tiny, chest.png, chest.dcm, and workspace settings that
 * point the extension at them and at this checkout's daemon — or, with `{ settings: false }`, no
 * settings at all (what a new user has).
 */
export async function makeWorkspace({ settings = true } = {}) {
  const { writeFixtureModel } = await import(join(ROOT, "server/dist/testing/fixture-model.js"));
  const { writeSyntheticPng } = await import(join(ROOT, "server/dist/testing/workspace.js"));
  const { writeDicom, syntheticGrey } = await import(join(ROOT, "server/dist/testing/dicom-fixtures.js"));
  const base = mkdtempSync(join(tmpdir(), "xraygpt-e2e-"));
  const ws = join(base, "workspace");
  const models = join(base, "models");
  mkdirSync(join(ws, ".vscode"), { recursive: true });
  await writeFixtureModel(models, "fixture-tiny");
  await writeSyntheticPng(join(ws, "chest.png"), 1, 192, 160);
  writeDicom(join(ws, "chest.dcm"), { width: 128, height: 112, pixels: syntheticGrey(128, 112, 4095), bitsStored: 12, extra: { BodyPartExamined: "CHEST", ViewPosition: "PA" } });
  if (settings) writeFileSync(
    join(ws, ".vscode", "settings.json"),
    JSON.stringify(
      {
        "xraygpt.model": "fixture-tiny",
        "xraygpt.modelsFolder": models,
        "xraygpt.server.path": CLI,
        "xraygpt.server.nodePath": process.execPath,
        "xraygpt.device": "cpu",
        "xraygpt.maxTokens": 24,
      },
      null,
      2,
    ),
  );
  return { base, ws, models, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * PATH without this checkout's node_modules/.bin (npm puts it first when it runs a script), so no
 * `xraygpt` of the checkout's is on it.
 */
export function pathWithoutCheckout() {
  return (process.env.PATH ?? "").split(":").filter((d) => d && !d.includes("node_modules/.bin") && !existsSync(join(d, "xraygpt"))).join(":");
}

/**
 * Starts code-server with the packaged extension (xraygpt.vsix, made by `npm run package`; made
 * here when missing) installed into a fresh profile; resolves when it answers. `env` is the
 * environment of code-server (and so of the extension host and the daemon it starts).
 */
export async function startCodeServer(base, { env = process.env } = {}) {
  if (!existsSync(CODE_SERVER)) throw new Error(`code-server is not set up: run scripts/setup-code-server.sh (${CODE_SERVER} missing)`);
  const vsix = join(ROOT, "xraygpt.vsix");
  if (!existsSync(vsix)) {
    const r = spawnSync("npm", ["run", "package"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`packaging the extension failed:\n${r.stdout}\n${r.stderr}`);
  }
  const userData = join(base, "user-data");
  const extensions = join(base, "extensions");
  mkdirSync(join(userData, "User"), { recursive: true });
  writeFileSync(
    join(userData, "User", "settings.json"),
    JSON.stringify({ "workbench.startupEditor": "none", "security.workspace.trust.enabled": false, "workbench.tips.enabled": false, "telemetry.telemetryLevel": "off", "extensions.autoUpdate": false, "extensions.autoCheckUpdates": false, "chat.disableAIFeatures": true, "workbench.welcomePage.walkthroughs.openOnInstall": false }),
  );
  const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
  const inst = spawnSync(CODE_SERVER, [...common, "--install-extension", vsix], { encoding: "utf8", env: { ...env } });
  if (inst.status !== 0) throw new Error(`installing the VSIX into code-server failed:\n${inst.stdout}\n${inst.stderr}`);
  const port = await freePort();
  const log = [];
  const child = spawn(CODE_SERVER, [...common, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override"], {
    env: { ...env, XRAYGPT_THREADS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (b) => log.push(b.toString()));
  child.stderr.on("data", (b) => log.push(b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${log.join("")}`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer within 60 s:\n${log.join("")}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return { url, log, stop: () => child.kill("SIGTERM") };
}

export async function openBrowser() {
  return chromium.launch({
    executablePath: process.env.XRAYGPT_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    headless: true,
  });
}

/** The inner frame of a VS Code webview whose document has `selector`. */
export async function webviewFrame(page, selector, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      if (!f.url().includes("fake.html") && !f.url().includes("index.html")) continue;
      try {
        if (await f.$(selector)) return f;
      } catch {
        // frame navigated away
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview with ${selector} appeared`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The first frame in which `predicate` (run in the frame's page) is true, e.g. the viewer of one image. */
export async function frameWhere(page, predicate, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate(predicate)) return f;
      } catch {
        // a frame that navigated away, or not a viewer
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function shot(page, name) {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`) });
}

/** Opens a workspace file through Quick Open (Ctrl+P). */
export async function quickOpen(page, name) {
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input");
  await page.keyboard.type(name);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${name}"]`);
  await page.keyboard.press("Enter");
}

/** Right-clicks a file in the explorer and picks `label` from its context menu. */
export async function explorerMenu(page, file, label) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${file}"]`).first();
  if (!(await row.isVisible())) await page.keyboard.press("Control+Shift+E"); // another view holds the side bar
  const item = page.locator(`.context-view .action-label:text-is("${label}")`);
  // A right-click while the workbench re-renders (a viewer opening, a settings change) can open
  // no menu, or one that closes again before the click: close what is left and click again.
  for (let attempt = 1; ; attempt++) {
    try {
      await row.click({ button: "right" });
      await item.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500); // VS Code ignores a menu click that follows its opening too closely
      await item.hover({ timeout: 10_000 });
      await item.click({ timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.keyboard.press("Escape");
    }
  }
  await page.waitForSelector(".context-view .monaco-menu", { state: "detached", timeout: 10_000 }).catch(() => page.keyboard.press("Escape"));
}

/** A report section's text (the body under `## name`, trimmed; "" when empty or absent). */
export function reportSection(text, name) {
  return new RegExp(`^## ${name}\\n+([\\s\\S]*?)\\s*(?=^## |(?![\\s\\S]))`, "m").exec(text)?.[1]?.trim() ?? "";
}

/** Runs a command from the command palette by its title. */
export async function runCommand(page, title) {
  await page.keyboard.press("Control+Shift+P");
  await page.waitForSelector(".quick-input-widget input");
  await page.keyboard.type(title);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title.replace(/^[^:]*: /, "")}"]`);
  await page.keyboard.press("Enter");
}

/** The toast whose message contains `text` (a locator; wait on it). */
export function toast(page, text) {
  return page.locator(".notifications-toasts .notification-list-item", { hasText: text });
}
