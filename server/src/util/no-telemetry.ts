/**
 * Nothing leaves the machine: onnxruntime-node's built-in telemetry (a local event database under
 * ~/.cache/Microsoft, /tmp/mat-debug-*.log and uploads to Microsoft) is turned off. Import this
 * module before onnxruntime-node, as the first import of every module that imports it: ES module
 * dependencies run in import order, so the variable is set before the runtime loads. Worker
 * threads and child processes inherit it through the environment.
 */
process.env.ORT_DISABLE_TELEMETRY = "1";

export {};
