/** The metrics module: every text score in the project comes from here. */
export * from "./porter-stemmer.js";
export * from "./tokenize.js";
export * from "./rouge.js";
export * from "./fsum.js";
export * from "./bleu.js";
export * from "./chexpert.js";
export * from "./label-extractor.js";
export * from "./label-f1.js";
export * from "./mesh-to-chexpert.js";
export * from "./edit-distance.js";
export * from "./answer-checks.js";
