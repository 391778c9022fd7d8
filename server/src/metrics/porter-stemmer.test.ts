import { test } from "node:test";
import assert from "node:assert/strict";
import { PorterStemmer, porterStem, type PorterMode } from "./porter-stemmer.js";
import { readGolden } from "./golden.js";

test("hand-checked stems from Porter's paper and NLTK's extensions", () => {
  const expected: Record<string, string> = {
    caresses: "caress",
    ponies: "poni",
    relational: "relat",
    generalizations: "gener",
    hopping: "hop",
    agreed: "agre",
    happy: "happi",
    sky: "sky",
    dying: "die",
    lungs: "lung",
    opacities: "opac",
    effusions: "effus",
  };
  for (const [word, stem] of Object.entries(expected)) assert.equal(porterStem(word), stem, word);
  assert.equal(porterStem("Lungs"), "lung", "lowercases first");
});

test("ORIGINAL_ALGORITHM differs where NLTK extends it", () => {
  assert.equal(new PorterStemmer("ORIGINAL_ALGORITHM").stem("dying"), "dy");
  assert.equal(new PorterStemmer("NLTK_EXTENSIONS").stem("dying"), "die");
});

test("all three modes match Debian python3-nltk on 2014 words (golden/porter.json)", () => {
  const golden = readGolden<{ words: string[]; stems: Record<PorterMode, string[]> }>("porter.json");
  assert.ok(golden.words.length > 2000);
  for (const mode of Object.keys(golden.stems) as PorterMode[]) {
    const stemmer = new PorterStemmer(mode);
    const mismatches = golden.words.filter((w, i) => stemmer.stem(w) !== golden.stems[mode][i]);
    assert.deepEqual(mismatches.slice(0, 10), [], `${mode}: ${mismatches.length} mismatches`);
  }
});
