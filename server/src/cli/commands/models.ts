import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, UsageError, type CliCommand, type CliIO } from "../command.js";
import { BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, userModelsDir } from "../../models/registry.js";
import { addRemoteModel } from "../../models/remote-manifest.js";
import { addMultimodalModel } from "../../models/multimodal-manifest.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { formatModels } from "../format.js";

export const command: CliCommand = {
  name: "models",
  summary: "list installed models (* = default); add (GGUF + mmproj) and add-remote write a manifest",
  help: `Usage: xraygpt models [options]
       xraygpt models add ID --gguf FILE --mmproj FILE [--name TEXT] [--ctx N]
       xraygpt models add-remote ID --base-url URL[,URL...] --model NAME [options]

Options:
  --json              print the list as JSON
${ENGINE_HELP}

add writes <models folder>/ID/model.json (the folder: --models-dir, else the first of
XRAYGPT_MODELS_DIR, else ~/.local/share/xraygpt/models) for a vision-language model that
llama.cpp runs from a GGUF language model and its vision projector (mmproj), e.g. MedGemma; the
files stay where they are. Both are checked first and what was found is printed. Options:
  --gguf FILE         the language model (e.g. medgemma-4b-it-Q4_K_M.gguf)
  --mmproj FILE       its vision projector (e.g. mmproj-F16.gguf)
  --name TEXT         display name (default: the GGUF's general.name)
  --ctx N             context size (default 4096)

add-remote writes <models folder>/ID/model.json (the same folder) for a model served by an OpenAI-compatible server; nothing is sent
anywhere until you use it. Options:
  --base-url URLS     e.g. http://gpu1:8000/v1 (several, comma-separated: load is spread)
  --model NAME        the model name the server knows
  --api A             chat (image + question; default) or completions (text models: the
                      raw prompt with the findings line)
  --api-key-env NAME  send the key in environment variable NAME (the key is never written)
  --max-concurrency N requests in flight per endpoint (default 4; annotate's default
                      --concurrency is this × the endpoints)
  --name TEXT         display name
  --from ID           local model whose vision model and prompt it borrows (default ${DEFAULT_MODEL_ID})`,
  async run(args, io) {
    if (args[0] === "add-remote") return addRemote(args.slice(1), io, this.help);
    if (args[0] === "add") return addMultimodal(args.slice(1), io, this.help);
    const { flags } = parseArgs(args, { strings: ENGINE_FLAGS, booleans: ["json"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    const engine = engineFromFlags(flags);
    try {
      const models = await engine.listModels();
      io.stdout((flags.json ? JSON.stringify(models, null, 2) : formatModels(models)) + "\n");
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

async function addRemote(args: string[], io: CliIO, help: string): Promise<number> {
  const { flags, positionals } = parseArgs(args, { strings: ["models-dir", "base-url", "model", "api", "api-key-env", "max-concurrency", "name", "from"] });
  if (flags.help) return io.stdout(help + "\n"), 0;
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError("models add-remote takes one ID");
  const dir = targetDir(flags);
  if (typeof flags["base-url"] !== "string" || typeof flags.model !== "string") throw new UsageError("models add-remote needs --base-url URL and --model NAME");
  const api = (flags.api as string | undefined) ?? "chat";
  if (api !== "chat" && api !== "completions") throw new UsageError(`--api must be chat or completions (got ${api})`);
  const maxConcurrency = flags["max-concurrency"] === undefined ? undefined : Number(flags["max-concurrency"]);
  if (maxConcurrency !== undefined && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 256)) throw new UsageError(`--max-concurrency needs an integer from 1 to 256 (got ${String(flags["max-concurrency"])})`);
  const from = (flags.from as string | undefined) ?? DEFAULT_MODEL_ID;
  const found = [BUNDLED_MODELS_DIR, resolve(dir)].map((d) => join(d, from, "model.json")).find((p) => existsSync(p));
  if (!found) throw new UsageError(`--from ${from}: no such local model`);
  const { path, manifest } = await addRemoteModel({
    id,
    modelsDir: resolve(dir),
    fromManifest: found,
    backend: { baseUrls: flags["base-url"].split(",").filter(Boolean), model: flags.model, api, ...(typeof flags["api-key-env"] === "string" ? { apiKeyEnv: flags["api-key-env"] } : {}), ...(maxConcurrency ? { maxConcurrency } : {}) },
    ...(typeof flags.name === "string" ? { name: flags.name } : {}),
  });
  io.stdout(`wrote ${path}\n  ${manifest.backend!.model} at ${manifest.backend!.baseUrls.join(", ")} (${api})${manifest.backend!.apiKeyEnv ? `, key from $${manifest.backend!.apiKeyEnv}` : ""}\n  findings line from ${from}'s vision model\n`);
  return 0;
}

/** Where add and add-remote write: --models-dir, else the first of XRAYGPT_MODELS_DIR, else the user's models folder. */
function targetDir(flags: Record<string, string | boolean>): string {
  return (flags["models-dir"] as string | undefined)?.split(",")[0] ?? process.env.XRAYGPT_MODELS_DIR?.split(",")[0] ?? userModelsDir();
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function addMultimodal(args: string[], io: CliIO, help: string): Promise<number> {
  const { flags, positionals } = parseArgs(args, { strings: ["models-dir", "gguf", "mmproj", "name", "ctx"] });
  if (flags.help) return io.stdout(help + "\n"), 0;
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError("models add takes one ID");
  if (typeof flags.gguf !== "string" || typeof flags.mmproj !== "string") throw new UsageError("models add needs --gguf FILE and --mmproj FILE");
  const ctx = flags.ctx === undefined ? undefined : Number(flags.ctx);
  if (ctx !== undefined && (!Number.isInteger(ctx) || ctx < 64)) throw new UsageError(`--ctx needs an integer of at least 64 (got ${String(flags.ctx)})`);
  const { path, manifest, info } = await addMultimodalModel({
    id,
    modelsDir: resolve(targetDir(flags)),
    gguf: flags.gguf,
    mmproj: flags.mmproj,
    ...(typeof flags.name === "string" ? { name: flags.name } : {}),
    ...(ctx !== undefined ? { contextSize: ctx } : {}),
  });
  const { llm, mmproj } = info;
  io.stdout(
    `wrote ${path}\n` +
      `  language model  ${llm.path} (${mib(llm.sizeBytes)}): ${llm.architecture}${llm.name ? ` "${llm.name}"` : ""}, n_embd ${llm.nEmbd}${llm.contextLength ? `, trained context ${llm.contextLength}` : ""}, chat template from the GGUF\n` +
      `  projector       ${mmproj.path} (${mib(mmproj.sizeBytes)}): clip, projector ${mmproj.projectorType}${mmproj.imageSize ? `, image ${mmproj.imageSize} px` : ""}, output width ${mmproj.outputWidth ?? "not read here (mtmd checks it when the model loads)"}${mmproj.outputWidth !== undefined ? " = n_embd" : ""}\n` +
      `  context ${manifest.llm!.contextSize}; use it: xraygpt summarize IMAGE --model ${id}\n`,
  );
  return 0;
}
