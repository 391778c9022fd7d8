/**
 * Streamed text with consensus decoding: provisional text is the draft (the first candidate)
 * while the other candidates run; replacing text is the chosen answer and replaces everything
 * streamed before it (TokenParams.provisional / replace in the protocol).
 */
export interface TokenFlags {
  provisional?: boolean;
  replace?: boolean;
}

export type OnToken = (text: string, index: number, flags?: TokenFlags) => void;

/**
 * For consumers that show only the answer (stdout, an HTTP stream): drops provisional text and
 * passes the replacing answer on as text (nothing non-provisional precedes it).
 */
export function answerOnly(onText: (text: string, index: number) => void): OnToken {
  return (text, index, flags) => {
    if (!flags?.provisional) onText(text, index);
  };
}
