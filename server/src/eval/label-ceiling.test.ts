import { test } from "node:test";
import assert from "node:assert/strict";
import { rougeLTokens, tokenizeRouge } from "../metrics/index.js";
import { perKeyOracle, typicality, typicalTexts } from "./label-ceiling.js";

const f = (a: string, b: string) => rougeLTokens(tokenizeRouge(a), tokenizeRouge(b)).f;

test("typicalTexts picks, per label set, the text closest to the others with the same labels", () => {
  const texts = [
    { key: "", text: "the lungs are clear" },
    { key: "", text: "the heart is normal the lungs are clear no effusion" },
    { key: "", text: "heart normal no effusion" },
    { key: "", text: "completely unrelated words here" },
    { key: "Edema", text: "there is pulmonary edema" },
    { key: "Edema", text: "mild pulmonary edema" },
  ];
  const typical = typicalTexts(texts);
  // The long normal text shares words with both short normal texts; check against brute force.
  const normals = texts.filter((t) => t.key === "").map((t) => t.text);
  const mean = (t: string) => normals.filter((o) => o !== t).reduce((s, o) => s + f(t, o), 0) / (normals.length - 1);
  const brute = [...normals].sort((a, b) => mean(b) - mean(a))[0];
  assert.equal(typical.get(""), brute);
  assert.equal(typical.get(""), "the heart is normal the lungs are clear no effusion");
  assert.ok(["there is pulmonary edema", "mild pulmonary edema"].includes(typical.get("Edema")!));
  assert.equal(typical.size, 2);
});

test("typicalTexts compares large groups with an evenly spaced subset and still picks the majority text", () => {
  const texts = [
    ...Array.from({ length: 40 }, () => ({ key: "k", text: "no acute disease" })),
    ...Array.from({ length: 10 }, (_, i) => ({ key: "k", text: `odd report number ${i}` })),
  ];
  assert.equal(typicalTexts(texts, 8).get("k"), "no acute disease");
});

test("typicality: each text's mean ROUGE-L F against the others with its label set, 0 when alone, in input order", () => {
  const texts = [
    { key: "", text: "the lungs are clear" },
    { key: "Edema", text: "there is pulmonary edema" },
    { key: "", text: "the heart is normal the lungs are clear" },
    { key: "", text: "heart normal no effusion" },
    { key: "Fracture", text: "rib fracture" },
    { key: "", text: "the lungs are clear" },
  ];
  const t = typicality(texts);
  texts.forEach((x, i) => {
    const others = texts.filter((o, j) => o.key === x.key && j !== i);
    // A repeated text is scored once, against the others of its first occurrence.
    const first = texts.findIndex((o) => o.key === x.key && o.text === x.text);
    const refs = texts.filter((o, j) => o.key === x.key && j !== first);
    const want = others.length === 0 ? 0 : refs.reduce((s, o) => s + f(x.text, o.text), 0) / refs.length;
    assert.ok(Math.abs(t[i]! - want) < 1e-12, `${x.text}: ${t[i]} vs ${want}`);
  });
  assert.equal(t[1], 0);
  assert.ok(t[2]! > t[3]!, "the text sharing words with its set is more typical");
});

test("perKeyOracle scores each study with the best candidate for its label set, chosen on that set", () => {
  const studies = [
    { key: "", text: "the lungs are clear no effusion" },
    { key: "", text: "the lungs are clear" },
    { key: "Edema", text: "there is pulmonary edema" },
  ];
  const candidates = ["the lungs are clear", "there is pulmonary edema", "heart size normal"];
  const scores = perKeyOracle(studies, candidates);
  assert.equal(scores.length, 3);
  // For the normal set, "the lungs are clear" is best on both studies together.
  assert.equal(scores[0], f("the lungs are clear", studies[0]!.text));
  assert.equal(scores[1], 1);
  assert.equal(scores[2], 1);
  // No single candidate per set does better on average than the oracle.
  for (const c of candidates) {
    const m = (f(c, studies[0]!.text) + f(c, studies[1]!.text)) / 2;
    assert.ok(m <= (scores[0]! + scores[1]!) / 2 + 1e-12, c);
  }
});

test("perKeyOracle gives 0 when there are no candidates", () => {
  assert.deepEqual(perKeyOracle([{ key: "", text: "clear" }], []), [0]);
});
