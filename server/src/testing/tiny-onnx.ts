/**
 * Tiny ONNX graphs for tests, built with onnx-proto: a linear "classifier" over the whole image
 * (Flatten → MatMul → Add → Sigmoid) with an optional softmax view head. Weights are seeded, so
 * different images give different probabilities.
 */
import { writeFile } from "node:fs/promises";
import onnxProto, { type onnx as OnnxTypes } from "onnx-proto";
import { mulberry32 } from "../util/random.js";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { onnx } = onnxProto;

export interface TinyClassifierOptions {
  width: number;
  height: number;
  labels: string[];
  /** Adds a softmax head "view" with these labels. */
  viewLabels?: string[];
  seed?: number;
  /** Weight scale: larger values push probabilities towards 0 and 1. */
  scale?: number;
  /** Label weights ([width × height, labels], row-major) instead of seeded random ones. */
  weights?: Float32Array;
}

export function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTypes.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function valueInfo(name: string, dims: number[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}

/** Encode a single-graph ONNX model (opset 13). */
export function encodeModel(graph: OnnxTypes.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "xraygpt-tests",
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export function tinyClassifier(opts: TinyClassifierOptions): Uint8Array {
  const rand = mulberry32(opts.seed ?? 7);
  const n = opts.width * opts.height;
  const scale = opts.scale ?? 4;
  const weights = (cols: number) => Float32Array.from({ length: n * cols }, () => ((rand() - 0.5) * 2 * scale) / Math.sqrt(n));
  const nodes: OnnxTypes.INodeProto[] = [
    { opType: "Flatten", input: ["image"], output: ["flat"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    { opType: "MatMul", input: ["flat", "w_labels"], output: ["logits"] },
    { opType: "Add", input: ["logits", "b_labels"], output: ["logits_b"] },
    { opType: "Sigmoid", input: ["logits_b"], output: ["probs"] },
  ];
  const L = opts.labels.length;
  const initializer = [floatTensor("w_labels", [n, L], opts.weights ?? weights(L)), floatTensor("b_labels", [L], new Float32Array(L))];
  const output = [valueInfo("probs", [1, L])];
  if (opts.viewLabels) {
    const V = opts.viewLabels.length;
    nodes.push(
      { opType: "MatMul", input: ["flat", "w_view"], output: ["view_logits"] },
      { opType: "Softmax", input: ["view_logits"], output: ["view"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    );
    initializer.push(floatTensor("w_view", [n, V], weights(V)));
    output.push(valueInfo("view", [1, V]));
  }
  return encodeModel({ name: "tiny-classifier", node: nodes, initializer, input: [valueInfo("image", [1, 1, opts.height, opts.width])], output });
}

export async function writeTinyClassifier(path: string, opts: TinyClassifierOptions): Promise<void> {
  await writeFile(path, tinyClassifier(opts));
}
