/** Every CLI command, in the order `xraygpt --help` lists them. */
import type { CliCommand } from "../command.js";
import { command as summarize } from "./summarize.js";
import { command as chat } from "./chat.js";
import { command as findings } from "./findings.js";
import { command as models } from "./models.js";
import { command as serve } from "./serve.js";
import { command as annotate } from "./annotate.js";
import { command as evaluate } from "./evaluate.js";
import { command as status } from "./status.js";

export const commands: CliCommand[] = [summarize, chat, findings, annotate, evaluate, models, serve, status];
