/**
 * A small RFC 4180 CSV reader: comma-separated, fields optionally in double quotes, "" inside
 * quotes is a literal quote, quoted fields may hold commas and line breaks, records end with
 * LF or CRLF. A UTF-8 BOM is skipped. Errors name the file and the line.
 */
import { readRegularFileSync } from "../util/safe-file.js";

export class CsvError extends Error {
  override name = "CsvError";
}

export function parseCsv(text: string, file = "<csv>"): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let quoted = false;
  let fieldStarted = false;
  const endField = () => {
    row.push(field);
    field = "";
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  let quoteLine = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
          throw new CsvError(`${file}: line ${line}: unexpected character after closing quote`);
        }
        continue;
      }
      if (c === "\n") line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (fieldStarted || field.length > 0) throw new CsvError(`${file}: line ${line}: quote inside an unquoted field`);
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
      i++;
    } else if (c === ",") {
      endField();
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      endRow();
      line++;
      i += 2;
    } else if (c === "\n") {
      endRow();
      line++;
      i++;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (quoted) throw new CsvError(`${file}: line ${quoteLine}: quoted field is never closed`);
  if (fieldStarted || field.length > 0 || row.length > 0) endRow();
  return rows;
}

export interface CsvTable {
  header: string[];
  rows: Record<string, string>[];
}

/** A CSV file with a header row; every record must have as many fields as the header. */
export function readCsvTable(file: string): CsvTable {
  let text: string;
  try {
    text = readRegularFileSync(file, { what: "reference CSV" }).toString("utf8");
  } catch (e) {
    throw new CsvError((e as Error).message);
  }
  const records = parseCsv(text, file).filter((r) => !(r.length === 1 && r[0] === ""));
  const header = records.shift();
  if (!header) throw new CsvError(`${file}: empty CSV (no header row)`);
  const rows = records.map((r, k) => {
    if (r.length !== header.length) throw new CsvError(`${file}: record ${k + 1} has ${r.length} fields, the header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, r[j]!]));
  });
  return { header, rows };
}
