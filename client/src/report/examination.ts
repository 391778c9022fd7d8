/**
 * The report's Examination line from the radiograph's own DICOM header: modality, body part,
 * view and laterality, each only when it is one of the standard codes the daemon passes on
 * (never free text). "DX chest, PA view." PNG/JPEG carry none of these: no line.
 */
import type { ImageInfo } from "@xraygpt/protocol";

const VIEWS: Record<string, string> = { PA: "PA", AP: "AP", LL: "left lateral", RL: "right lateral", LAT: "lateral", LATERAL: "lateral", RLD: "right lateral decubitus", LLD: "left lateral decubitus", RLO: "right anterior oblique", LLO: "left anterior oblique", OBL: "oblique" };
const SIDES: Record<string, string> = { R: "right", L: "left", B: "bilateral" };
const PARTS: Record<string, string> = { CHESTABDOMEN: "chest and abdomen", CHESTABDPELVIS: "chest, abdomen and pelvis", ABDOMENPELVIS: "abdomen and pelvis", CSPINE: "cervical spine", TSPINE: "thoracic spine", LSPINE: "lumbar spine", SSPINE: "sacral spine" };

export function examinationText(info: ImageInfo): string | undefined {
  if (info.format !== "dicom" || (!info.modality && !info.bodyPart)) return undefined;
  const side = info.laterality && SIDES[info.laterality];
  const part = info.bodyPart ? (PARTS[info.bodyPart] ?? info.bodyPart.toLowerCase()) : "radiograph";
  const head = [info.modality, side, part].filter(Boolean).join(" ");
  const view = info.view ? `, ${VIEWS[info.view] ?? info.view} view` : "";
  const line = `${head}${view}.`;
  return line[0]!.toUpperCase() + line.slice(1);
}
