"""The report writer's lexicon: every lower-case word ([a-z]+) of the IU X-ray training reports
(findings and impression) but those with the de-identification placeholder "xxxx", one per line, sorted;
then, after a line "#answers", the words of the trained chat answers' fixed sentences that the reports lack
("yes", "assessed"), which answers (not summaries) may also use. Consensus decoding prefers candidates whose words
are all in it (server/src/host/consensus.ts); `npm run eval` checks that it equals the vocabulary
the text checks use (server/src/metrics/answer-checks.ts vocabulary over the same reports)."""
import os
import re

from common import MODEL_DIR
from iu_data import answer_templates, load_reports

WORD = re.compile(r"[a-z]+")
# Not words of a report: IU X-ray's de-identification placeholder "XXXX", also run into a word
# ("XXXXPM"; server/src/metrics/answer-checks.ts isPlaceholder).
PLACEHOLDER = "xxxx"
# After this line: the words chat answers may use too (server/src/host/consensus.ts lexicon()).
ANSWERS_MARK = "#answers"


def main():
    words = set()
    for r in load_reports("train"):
        words.update(WORD.findall(" ".join(t for t in (r["findings"], r["impression"]) if t).lower()))
    words = {w for w in words if PLACEHOLDER not in w}
    # Chat answers may also use the words of the answer sentences the LM is trained on.
    answers = set(WORD.findall(" ".join(answer_templates()).lower())) - words
    path = os.path.join(MODEL_DIR, "lexicon.txt")
    with open(path, "w") as f:
        f.write("".join(w + "\n" for w in sorted(words)))
        f.write(ANSWERS_MARK + "\n" + "".join(w + "\n" for w in sorted(answers)))
    print(f"wrote {path}: {len(words)} words, and {len(answers)} more for answers")


if __name__ == "__main__":
    main()
