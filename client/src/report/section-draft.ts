/**
 * One job's draft written into a report's sections in place. A section that is empty when the
 * job starts is filled as the text streams (provisional text styled as such, then replaced by
 * the chosen answer); a section that already has text, or that the user types into while it
 * streams, is never overwritten: the draft for it becomes a proposal the user accepts or rejects
 * from a diff. Edits are computed from the document's current text, so the user can keep typing
 * elsewhere; they are batched (one per ~50 ms) and serialized per document.
 */
import * as vscode from "vscode";
import { setSectionBodyEdit, sectionBody, type DraftedSection, type DraftRecord, type DraftState, type ReportSection } from "./report-document.js";
import type { ReportDecorations } from "./decorations.js";
import type { Proposals } from "./proposals.js";

export async function applyOffsetEdit(doc: vscode.TextDocument, e: { start: number; end: number; text: string }): Promise<boolean> {
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
  return vscode.workspace.applyEdit(we);
}

export interface DraftTarget {
  doc: vscode.TextDocument;
  decorations: ReportDecorations;
  proposals: Proposals;
}

export interface DraftInfo {
  jobId: string;
  model: string;
  modelVersion: string;
  time: string;
}

/** How the job's text maps to sections (a summary → Findings + Impression; a section draft → that section). */
export type Shape = (text: string) => Partial<Record<DraftedSection, string>>;

export class SectionDraft {
  private readonly inPlace = new Set<DraftedSection>();
  /** What this draft last wrote into each in-place section (to notice the user's edits). */
  private readonly written = new Map<DraftedSection, string>();
  private text = "";
  private provisional = false;
  private note: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Called once, when text first becomes visible in the document. */
  onFirstVisible: ((provisional: boolean) => void) | undefined;
  private visible = false;

  constructor(
    private readonly target: DraftTarget,
    private readonly info: DraftInfo,
    private readonly sections: readonly DraftedSection[],
    private readonly shape: Shape,
  ) {
    const text = target.doc.getText();
    for (const s of sections) if (!sectionBody(text, s)?.text) this.inPlace.add(s);
  }

  /**
   * Writes `text` into `section` if that section is empty (a fact from the image, such as the
   * Examination line: not a draft, not decorated); in turn with the draft's own edits.
   */
  fillEmpty(section: ReportSection, text: string): Promise<unknown> {
    this.chain = this.chain.then(async () => {
      const doc = this.target.doc;
      if (sectionBody(doc.getText(), section)?.text === "") await applyOffsetEdit(doc, setSectionBodyEdit(doc.getText(), section, text));
    });
    return this.chain;
  }

  /** The job's whole text so far (provisional or not); written on the next flush. */
  update(text: string, provisional: boolean, note?: string): void {
    this.text = text;
    this.provisional = provisional;
    this.note = note;
    this.timer ??= setTimeout(() => void this.flush("streaming"), 50);
  }

  /** Progress shown beside the provisional text ("2 of 5 candidates"). */
  setNote(note: string | undefined): void {
    this.note = note;
    this.render(this.provisional ? "provisional" : "streaming");
  }

  private record(section: DraftedSection, text: string, state: DraftState, reason?: string): DraftRecord {
    return { section, jobId: this.info.jobId, model: this.info.model, modelVersion: this.info.modelVersion, time: this.info.time, state, ...(reason ? { reason } : {}), text };
  }

  private render(state: DraftState): void {
    const live = [...this.written].map(([s, t]) => this.record(s, t, state));
    this.target.decorations.setLive(this.target.doc, this.info.jobId, live, state === "provisional" ? this.note : undefined);
  }

  private flush(state: DraftState): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.text;
    const provisional = this.provisional;
    this.chain = this.chain.then(async () => {
      const parts = this.shape(text);
      for (const s of this.sections) {
        if (!this.inPlace.has(s)) continue;
        const want = (parts[s] ?? "").trim();
        const now = sectionBody(this.target.doc.getText(), s)?.text ?? "";
        if (now !== (this.written.get(s) ?? "")) {
          // The user typed into the section while it streamed: from here on, a proposal.
          this.inPlace.delete(s);
          this.written.delete(s);
          continue;
        }
        if (want === now) continue;
        if (await applyOffsetEdit(this.target.doc, setSectionBodyEdit(this.target.doc.getText(), s, want))) {
          if (want) this.written.set(s, want);
          else this.written.delete(s);
          if (want && !this.visible) {
            this.visible = true;
            this.onFirstVisible?.(provisional);
          }
        }
      }
      this.render(provisional && state === "streaming" ? "provisional" : state);
    });
    return this.chain;
  }

  /**
   * Writes the final text (the request's result: exactly what was generated, also when cancelled),
   * records provenance, saves, and offers the sections that were not empty as proposals. Returns
   * the sections written in place and those proposed.
   */
  async finish(finalText: string, state: "complete" | "interrupted", reason?: string): Promise<{ written: DraftedSection[]; proposed: DraftedSection[] }> {
    this.text = finalText;
    this.provisional = false;
    await this.flush(state);
    await this.chain;
    const parts = this.shape(finalText);
    const written = [...this.written.keys()];
    const records = written.map((s) => this.record(s, this.written.get(s)!, state, reason));
    await this.target.decorations.commit(this.target.doc, this.info.jobId, records);
    const proposed: DraftedSection[] = [];
    for (const s of this.sections) {
      const t = (parts[s] ?? "").trim();
      if (this.inPlace.has(s) || !t || t === sectionBody(this.target.doc.getText(), s)?.text) continue;
      proposed.push(s);
      this.target.proposals.offer(this.target.doc, this.record(s, t, state, reason));
    }
    return { written, proposed };
  }
}
