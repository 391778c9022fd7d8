// Module entry: backend loading (CPU variants from the libraries' own folder, optional GPU
// backend files), device listing, quiet logging, and the wrapped classes.
#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>
#include "common.h"
#include "ggml-backend.h"

double optNumber(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool optBool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  return v.ToBoolean().Value();
}

Napi::Object optObject(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsObject()) return info[i].As<Napi::Object>();
  return Napi::Object::New(info.Env());
}

static bool verbose = false;

static void logCallback(ggml_log_level level, const char* text, void*) {
  if (verbose || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static std::string libraryDir() {
  Dl_info dl;
  if (!dladdr(reinterpret_cast<void*>(&llama_backend_init), &dl) || !dl.dli_fname) return "";
  std::string p = dl.dli_fname;
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

static bool hasGpuDevice() {
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    enum ggml_backend_dev_type t = ggml_backend_dev_type(ggml_backend_dev_get(i));
    if (t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU) return true;
  }
  return false;
}

// init({ gpuBackends?: string[], verbose?: boolean }) -> { libraryDir, devices }
// Loads the CPU backend from the folder libllama was loaded from (unless this process already
// registered one, e.g. through node-llama-cpp) and each given GPU backend file that loads.
static Napi::Value InitBackends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts = optObject(info, 0);
  verbose = optBool(opts, "verbose", std::getenv("LLAMA_EMBED_VERBOSE") != nullptr);
  llama_log_set(logCallback, nullptr);
  llama_backend_init();
  Napi::Value gpu = opts.Get("gpuBackends");
  if (gpu.IsArray()) {
    Napi::Array files = gpu.As<Napi::Array>();
    // In order of preference; stops at the first that yields a GPU device (one GPU backend only,
    // else llama.cpp would split layers across e.g. CUDA0 and Vulkan0, the same card).
    for (uint32_t i = 0; i < files.Length() && !hasGpuDevice(); i++) {
      std::string f = files.Get(i).ToString().Utf8Value();
      ggml_backend_load(f.c_str());  // a GPU backend whose runtime is missing just doesn't load
    }
  }
  std::string dir = libraryDir();
  if (!ggml_backend_reg_by_name("CPU")) ggml_backend_load_all_from_path(dir.c_str());
  if (!ggml_backend_reg_by_name("CPU")) throw Napi::Error::New(env, "no CPU backend could be loaded from " + dir);
  Napi::Object out = Napi::Object::New(env);
  out.Set("libraryDir", dir);
  Napi::Array devs = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
    ggml_backend_dev_t d = ggml_backend_dev_get(i);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", ggml_backend_dev_name(d));
    o.Set("description", ggml_backend_dev_description(d));
    enum ggml_backend_dev_type t = ggml_backend_dev_type(d);
    o.Set("type", t == GGML_BACKEND_DEVICE_TYPE_CPU ? "cpu" : t == GGML_BACKEND_DEVICE_TYPE_GPU ? "gpu" : t == GGML_BACKEND_DEVICE_TYPE_IGPU ? "igpu" : "accel");
    devs.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("devices", devs);
  out.Set("supportsGpuOffload", llama_supports_gpu_offload());
  return out;
}

static Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), llama_print_system_info());
}

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, InitBackends));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo));
  Model::Init(env, exports);
  Context::Init(env, exports);
  Sampler::Init(env, exports);
  Lexicon::Init(env, exports);
  return exports;
}

NODE_API_MODULE(llama_embed, InitModule)
