/**
 * The DICOM tag list for the viewer's tag panel. Every tag that can identify a patient (the
 * patient module, dates and times, people, institutions, accession/study IDs, instance UIDs,
 * free-text descriptions and comments, every private tag) is flagged `patientIdentifying`;
 * `redactedTags` blanks those unless the user opted in. Only top-level elements are listed;
 * sequences show their item count, binary data its length.
 */
import { createRequire } from "node:module";
import type { DataSet, Element } from "dicom-parser";
import type { DicomTag } from "@xraygpt/protocol";

const require = createRequire(import.meta.url);

interface DictionaryEntry {
  name: string;
  vr: string;
}
let dictionary: Record<string, DictionaryEntry | undefined> | undefined;

/** The standard data dictionary (dcmjs), loaded on first use. */
function dictionaryEntry(tag: string): DictionaryEntry | undefined {
  dictionary ??= (require("dcmjs") as { data: { DicomMetaDictionary: { dictionary: Record<string, DictionaryEntry> } } })
    .data.DicomMetaDictionary.dictionary;
  return dictionary[tag];
}

/** Whole groups that are about the patient, the visit or the procedure's people and times. */
const IDENTIFYING_GROUPS = new Set(["0010", "0032", "0038", "0040", "4008"]);
/** Single identifying elements (gggg,eeee) outside those groups. */
const IDENTIFYING_TAGS = new Set(
  [
    "0002,0003", "0008,0014", "0008,0018", "0008,0020", "0008,0021", "0008,0022", "0008,0023", "0008,002a",
    "0008,0030", "0008,0031", "0008,0032", "0008,0033", "0008,0050", "0008,0080", "0008,0081", "0008,0082",
    "0008,0090", "0008,0092", "0008,0094", "0008,0096", "0008,1010", "0008,1030", "0008,103e", "0008,1040",
    "0008,1048", "0008,1049", "0008,1050", "0008,1052", "0008,1060", "0008,1062", "0008,1070", "0008,1072",
    "0008,1080", "0008,1084", "0008,1110", "0008,1111", "0008,1120", "0008,1140", "0008,1155", "0008,2111",
    "0018,1000", "0018,1030", "0018,700a", "0018,a003", "0020,000d", "0020,000e", "0020,0010", "0020,0052",
    "0020,0200", "0020,4000", "0028,4000", "0400,0100", "0400,0402", "0400,0403", "0400,0404", "0400,0550",
    "0400,0561", "fffa,fffa", "fffc,fffc",
  ],
);

/**
 * Value representations that hold dates, times, names or free text: every element of these is
 * identifying (InstanceCreationDate, DateOfSecondaryCapture, IdentifyingComments, PlateID,
 * DeviceSerialNumber, descriptions, ...), whatever the tag. UIDs are too, but for the few that
 * name a class or syntax rather than an instance.
 */
const IDENTIFYING_VRS = new Set("AE AS DA DT TM PN LO LT SH ST UT UC UR UN".split(" "));
const CLASS_UIDS = new Set(["0002,0002", "0002,0010", "0002,0012", "0008,0016", "0008,1150"]);

export function isPatientIdentifying(group: string, element: string, vr?: string): boolean {
  if (Number.parseInt(group, 16) % 2 === 1) return true; // private tags may hold anything
  if (vr === undefined && group !== "7fe0") return true; // not in the dictionary: unknown content
  if (vr && IDENTIFYING_VRS.has(vr)) return true;
  if (vr === "UI" && !CLASS_UIDS.has(`${group},${element}`)) return true;
  return IDENTIFYING_GROUPS.has(group) || IDENTIFYING_TAGS.has(`${group},${element}`);
}

const STRING_VRS = new Set("AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT".split(" "));
const MAX_VALUE = 256;

function numericValues(ds: DataSet, el: Element, vr: string): string | undefined {
  const sizes: Record<string, [number, (tag: string, i: number) => number | undefined]> = {
    US: [2, (t, i) => ds.uint16(t, i)],
    SS: [2, (t, i) => ds.int16(t, i)],
    UL: [4, (t, i) => ds.uint32(t, i)],
    SL: [4, (t, i) => ds.int32(t, i)],
    FL: [4, (t, i) => ds.float(t, i)],
    FD: [8, (t, i) => ds.double(t, i)],
  };
  const spec = sizes[vr];
  if (!spec) return undefined;
  const count = Math.min(Math.floor(el.length / spec[0]), 64);
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(String(spec[1](el.tag, i)));
  return values.join("\\") + (el.length / spec[0] > count ? "\\…" : "");
}

function formatValue(ds: DataSet, el: Element, vr: string | undefined): string {
  if (el.items) return `(sequence, ${el.items.length} item${el.items.length === 1 ? "" : "s"})`;
  if (el.encapsulatedPixelData) return `(encapsulated pixel data, ${el.fragments?.length ?? 0} fragments)`;
  if (vr && STRING_VRS.has(vr)) {
    const value = (ds.string(el.tag) ?? "").replace(/[^\x20-\x7e]/g, "?");
    return value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value;
  }
  return (vr && numericValues(ds, el, vr)) ?? `(binary, ${el.length} bytes)`;
}

export function listTags(ds: DataSet): DicomTag[] {
  const tags: DicomTag[] = [];
  for (const key of Object.keys(ds.elements).sort()) {
    const el = ds.elements[key]!;
    const group = key.slice(1, 5);
    const element = key.slice(5, 9);
    const tag = `(${group},${element})`.toUpperCase();
    const entry = Number.parseInt(group, 16) % 2 === 1 ? undefined : dictionaryEntry(tag);
    const vr = el.vr ?? entry?.vr?.split("|")[0];
    tags.push({
      tag,
      name: entry?.name ?? (Number.parseInt(group, 16) % 2 === 1 ? "Private" : "Unknown"),
      value: key === "x7fe00010" && !el.encapsulatedPixelData ? `(pixel data, ${el.length} bytes)` : formatValue(ds, el, vr),
      patientIdentifying: isPatientIdentifying(group, element, vr),
    });
  }
  return tags;
}

export const REDACTED = "(hidden: patient-identifying)";

/** The tags with patient-identifying values replaced, unless the user opted in. */
export function redactedTags(tags: DicomTag[], includePatient: boolean): DicomTag[] {
  if (includePatient) return tags.map((t) => ({ ...t }));
  return tags.map((t) => (t.patientIdentifying ? { ...t, value: REDACTED } : { ...t }));
}
