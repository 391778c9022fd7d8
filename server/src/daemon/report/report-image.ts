/**
 * The report's image link (`image:` in its front matter): the edit that points it at another
 * file, used by the "Choose image…" quick fix of a missing or broken link. Only the value changes;
 * a report without the field (or without front matter) gets it added at the top.
 */
import { parseFrontMatter, yamlValue, type OffsetEdit } from "./report-format.js";

/** The command the extension registers: arguments [reportUri: string]; it asks for the file. */
export const CHOOSE_IMAGE_COMMAND = "xraygpt.chooseImage";

/** Sets `image:` to `value` (a path relative to the report's folder, "/" separators). */
export function setImageEdit(text: string, value: string): OffsetEdit {
  const fm = parseFrontMatter(text);
  const line = `image: ${yamlValue(value)}`;
  if (!fm) return { start: 0, end: 0, text: `---\n${line}\n---\n\n` };
  const f = fm.fields.get("image");
  if (f) return { start: f.start, end: f.end, text: yamlValue(value) };
  const afterOpen = text.indexOf("\n") + 1;
  return { start: afterOpen, end: afterOpen, text: `${line}\n` };
}
