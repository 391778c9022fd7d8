// The multimodal part of the addon (its own module, llama_mtmd.node): llama.cpp's libmtmd
// (compiled from the sources node-llama-cpp bundles) over a Model and Context of llama_embed.node.
// MtmdContext loads an mmproj GGUF for a text model; it encodes an image to the LLM's embeddings
// (encodeImage), splits a prompt with media markers into text and image chunks (tokenize), and
// evaluates an image chunk into a context (evalImage, async), the way mtmd-cli does
// (mtmd_helper_eval_chunk_single: non-causal attention, M-RoPE positions where the model wants them).
#include <napi.h>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "llama.h"
#include "mtmd.h"
#include "mtmd-helper.h"
#include "hash/hash.h"

namespace {

bool verbose = std::getenv("LLAMA_EMBED_VERBOSE") != nullptr;
std::mutex logMutex;
std::string* captured = nullptr;  // collects error lines while a constructor runs

void logCallback(ggml_log_level level, const char* text, void*) {
  std::lock_guard<std::mutex> lock(logMutex);
  if (captured && (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_CONT)) captured->append(text);
  if (verbose) fputs(text, stderr);
}

// Collects mtmd's error lines while it lives (on the JS thread: constructor, tokenize).
class LogCapture {
 public:
  LogCapture() {
    std::lock_guard<std::mutex> lock(logMutex);
    captured = &log_;
  }
  ~LogCapture() {
    std::lock_guard<std::mutex> lock(logMutex);
    captured = nullptr;
  }
  const std::string& text() const { return log_; }

 private:
  std::string log_;
};

// What mtmd/clip said, one line: the last "error:" part when there is one.
std::string reasonFrom(const std::string& log) {
  std::string s;
  for (char c : log) s += (c == '\n' || c == '\r') ? ' ' : c;
  size_t at = s.rfind("error: ");
  if (at != std::string::npos) s = s.substr(at + 7);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

double optNumber(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Object optObject(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsObject()) return info[i].As<Napi::Object>();
  return Napi::Object::New(info.Env());
}

// The native handle a llama_embed object gives through its _handle() method.
void* handleOf(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, std::string(what) + " must be a " + what + " of the llama-embed addon");
  Napi::Value fn = v.As<Napi::Object>().Get("_handle");
  if (!fn.IsFunction()) throw Napi::TypeError::New(env, std::string(what) + " must be a " + what + " of the llama-embed addon");
  Napi::Value h = fn.As<Napi::Function>().Call(v, {});
  if (!h.IsExternal()) throw Napi::TypeError::New(env, std::string(what) + "._handle() gave no native handle");
  return h.As<Napi::External<void>>().Data();
}

// { data: Uint8Array (RGB8, width*height*3), width, height, id?: string } -> bitmap (id: sha256 of the pixels by default)
mtmd::bitmap_ptr bitmapFrom(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, "an image must be { data: Uint8Array (RGB8), width, height }");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value d = o.Get("data");
  if (!d.IsTypedArray() || d.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "image.data must be a Uint8Array of RGB8 pixels");
  Napi::Uint8Array data = d.As<Napi::Uint8Array>();
  double w = optNumber(o, "width", 0), h = optNumber(o, "height", 0);
  if (w < 1 || h < 1 || w != static_cast<uint32_t>(w) || h != static_cast<uint32_t>(h) || w * h > 1e9)
    throw Napi::RangeError::New(env, "image width and height must be positive integers");
  if (data.ElementLength() != static_cast<size_t>(w) * static_cast<size_t>(h) * 3)
    throw Napi::RangeError::New(env, "image.data has " + std::to_string(data.ElementLength()) + " bytes, not width*height*3 = " + std::to_string(static_cast<size_t>(w * h * 3)));
  mtmd::bitmap_ptr bmp(mtmd_bitmap_init(static_cast<uint32_t>(w), static_cast<uint32_t>(h), data.Data()));
  if (!bmp) throw Napi::Error::New(env, "mtmd could not create a bitmap");
  Napi::Value id = o.Get("id");
  std::string sid = id.IsString() ? id.As<Napi::String>().Utf8Value() : hash_sha256_hex(data.Data(), data.ElementLength()) + ":" + std::to_string(static_cast<uint32_t>(w)) + "x" + std::to_string(static_cast<uint32_t>(h));
  mtmd_bitmap_set_id(bmp.get(), sid.c_str());
  return bmp;
}

void freeChunk(Napi::Env, mtmd_input_chunk* c) { mtmd_input_chunk_free(c); }

}  // namespace

class MtmdContext : public Napi::ObjectWrap<MtmdContext> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "MtmdContext", {
      InstanceAccessor<&MtmdContext::Marker>("marker"),
      InstanceAccessor<&MtmdContext::NEmbd>("nEmbd"),
      InstanceAccessor<&MtmdContext::NonCausal>("nonCausal"),
      InstanceAccessor<&MtmdContext::Mrope>("mrope"),
      InstanceAccessor<&MtmdContext::Vision>("vision"),
      InstanceMethod<&MtmdContext::EncodeImage>("encodeImage"),
      InstanceMethod<&MtmdContext::Tokenize>("tokenize"),
      InstanceMethod<&MtmdContext::EvalImage>("evalImage"),
      InstanceMethod<&MtmdContext::Free>("free"),
    });
    exports.Set("MtmdContext", f);
  }

  // new MtmdContext(model, mmprojPath, { useGpu = true, threads })
  explicit MtmdContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MtmdContext>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "new MtmdContext(model, mmprojPath, options): mmprojPath must be a string");
    model_ = *static_cast<std::shared_ptr<llama_model>*>(handleOf(env, info[0], "model"));
    path_ = info[1].As<Napi::String>().Utf8Value();
    Napi::Object opts = optObject(info, 2);
    mtmd_context_params p = mtmd_context_params_default();
    Napi::Value gpu = opts.Get("useGpu");
    p.use_gpu = gpu.IsUndefined() ? true : gpu.ToBoolean().Value();
    p.n_threads = static_cast<int>(optNumber(opts, "threads", p.n_threads));
    p.print_timings = false;
    p.warmup = false;
    std::string why;
    {
      LogCapture log;
      ctx_ = mtmd_init_from_file(path_.c_str(), model_.get(), p);
      why = reasonFrom(log.text());
    }
    if (!ctx_) {
      throw Napi::Error::New(env, "mtmd could not load the projector " + path_ + (why.empty() ? "" : ": " + why));
    }
    if (!mtmd_support_vision(ctx_)) {
      mtmd_free(ctx_);
      ctx_ = nullptr;
      throw Napi::Error::New(env, "the projector " + path_ + " has no vision encoder (audio only)");
    }
  }

  ~MtmdContext() override {
    if (ctx_) mtmd_free(ctx_);
  }

  mtmd_context* get(Napi::Env env) {
    if (!ctx_) throw Napi::Error::New(env, "the MtmdContext was freed");
    if (busy_) throw Napi::Error::New(env, "the MtmdContext is busy evaluating an image");
    return ctx_;
  }
  std::shared_ptr<llama_model> model_;
  bool busy_ = false;

 private:
  mtmd_context* ctx_ = nullptr;
  std::string path_;

  Napi::Value Marker(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), mtmd_default_marker()); }
  Napi::Value NEmbd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_model_n_embd_inp(model_.get())); }
  Napi::Value NonCausal(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), mtmd_decode_use_non_causal(get(info.Env()), nullptr)); }
  Napi::Value Mrope(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), mtmd_decode_use_mrope(get(info.Env()))); }
  Napi::Value Vision(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), mtmd_support_vision(get(info.Env()))); }

  mtmd::input_chunks_ptr tokenizeText(Napi::Env env, const std::string& text, std::vector<mtmd::bitmap_ptr>& bitmaps, bool addSpecial, bool parseSpecial) {
    mtmd::input_chunks_ptr chunks(mtmd_input_chunks_init());
    mtmd_input_text t{text.c_str(), text.size(), addSpecial, parseSpecial};
    std::vector<const mtmd_bitmap*> ptrs;
    for (auto& b : bitmaps) ptrs.push_back(b.get());
    mtmd_context* ctx = get(env);
    LogCapture log;
    int32_t rc = mtmd_tokenize(ctx, chunks.get(), &t, ptrs.data(), ptrs.size());
    if (rc == 0) return chunks;
    std::string why = reasonFrom(log.text());
    if (why.empty()) why = rc == 1 ? "the number of media markers (" + std::string(mtmd_get_marker(ctx)) + ") differs from the number of images (" + std::to_string(bitmaps.size()) + ")" : "mtmd_tokenize returned " + std::to_string(rc);
    throw Napi::Error::New(env, "mtmd could not tokenize the prompt: " + why);
  }

  // encodeImage({ data, width, height }) -> { embeddings: Float32Array, nTokens, dim }: the
  // projector's output for the image (every image chunk mtmd makes of it, in order).
  Napi::Value EncodeImage(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<mtmd::bitmap_ptr> bitmaps;
    bitmaps.push_back(bitmapFrom(env, info.Length() > 0 ? info[0] : env.Undefined()));
    mtmd::input_chunks_ptr chunks = tokenizeText(env, mtmd_default_marker(), bitmaps, false, false);
    const size_t dim = static_cast<size_t>(llama_model_n_embd_inp(model_.get()));
    std::vector<float> out;
    size_t nTokens = 0;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); i++) {
      const mtmd_input_chunk* c = mtmd_input_chunks_get(chunks.get(), i);
      if (mtmd_input_chunk_get_type(c) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
      if (mtmd_encode_chunk(get(env), c) != 0) throw Napi::Error::New(env, "mtmd could not encode the image with " + path_);
      size_t n = mtmd_input_chunk_get_n_tokens(c);
      const float* e = mtmd_get_output_embd(ctx_);
      out.insert(out.end(), e, e + n * dim);
      nTokens += n;
    }
    Napi::Float32Array arr = Napi::Float32Array::New(env, out.size());
    std::copy(out.begin(), out.end(), arr.Data());
    Napi::Object r = Napi::Object::New(env);
    r.Set("embeddings", arr);
    r.Set("nTokens", static_cast<double>(nTokens));
    r.Set("dim", static_cast<double>(dim));
    return r;
  }

  // tokenize(text, images, { addSpecial = true, parseSpecial = true }) -> chunks: text chunks
  // { type: "text", tokens: Int32Array } and image chunks { type: "image", id, nTokens, nPos, chunk }
  // (chunk: the native chunk, for evalImage), one marker in the text per image.
  Napi::Value Tokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "tokenize(text, images): text must be a string");
    std::vector<mtmd::bitmap_ptr> bitmaps;
    if (info.Length() > 1 && info[1].IsArray()) {
      Napi::Array a = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) bitmaps.push_back(bitmapFrom(env, a.Get(i)));
    }
    Napi::Object opts = optObject(info, 2);
    bool addSpecial = opts.Has("addSpecial") ? opts.Get("addSpecial").ToBoolean().Value() : true;
    bool parseSpecial = opts.Has("parseSpecial") ? opts.Get("parseSpecial").ToBoolean().Value() : true;
    mtmd::input_chunks_ptr chunks = tokenizeText(env, info[0].As<Napi::String>().Utf8Value(), bitmaps, addSpecial, parseSpecial);
    size_t n = mtmd_input_chunks_size(chunks.get());
    Napi::Array out = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      const mtmd_input_chunk* c = mtmd_input_chunks_get(chunks.get(), i);
      Napi::Object o = Napi::Object::New(env);
      if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
        size_t nt = 0;
        const llama_token* toks = mtmd_input_chunk_get_tokens_text(c, &nt);
        Napi::Int32Array t = Napi::Int32Array::New(env, nt);
        std::copy(toks, toks + nt, t.Data());
        o.Set("type", "text");
        o.Set("tokens", t);
      } else {
        o.Set("type", mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_IMAGE ? "image" : "audio");
        const char* id = mtmd_input_chunk_get_id(c);
        o.Set("id", id ? id : "");
        o.Set("nTokens", static_cast<double>(mtmd_input_chunk_get_n_tokens(c)));
        o.Set("nPos", static_cast<double>(mtmd_input_chunk_get_n_pos(c)));
        o.Set("chunk", Napi::External<mtmd_input_chunk>::New(env, mtmd_input_chunk_copy(c), freeChunk));
      }
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  // evalImage(context, chunk, { pos, seq = 0, nBatch = 512 }) -> Promise<number>: encodes the
  // image chunk and decodes its embeddings into the context at pos; resolves to the next position.
  Napi::Value EvalImage(const Napi::CallbackInfo& info);

  Napi::Value Free(const Napi::CallbackInfo& info) {
    if (busy_) throw Napi::Error::New(info.Env(), "cannot free an MtmdContext while it evaluates an image");
    if (ctx_) mtmd_free(ctx_);
    ctx_ = nullptr;
    model_.reset();
    return info.Env().Undefined();
  }
};

namespace {
class EvalWorker : public Napi::AsyncWorker {
 public:
  EvalWorker(Napi::Env env, MtmdContext* m, mtmd_context* ctx, Napi::Object self, Napi::Object context, Napi::Value chunk, llama_context* lctx, llama_pos pos, llama_seq_id seq, int32_t nBatch)
      : Napi::AsyncWorker(env, "llamaMtmdEval"), deferred_(Napi::Promise::Deferred::New(env)), m_(m), ctx_(ctx), lctx_(lctx), pos_(pos), seq_(seq), nBatch_(nBatch) {
    self_ = Napi::Persistent(self);
    context_ = Napi::Persistent(context);
    chunkRef_ = Napi::Persistent(chunk);
    chunk_ = chunk.As<Napi::External<mtmd_input_chunk>>().Data();
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    llama_pos next = pos_;
    int32_t rc = mtmd_helper_eval_chunk_single(ctx_, lctx_, chunk_, pos_, seq_, nBatch_, false, &next);
    if (rc != 0) SetError("mtmd could not evaluate the image (code " + std::to_string(rc) + ")");
    next_ = next;
  }
  void OnOK() override {
    m_->busy_ = false;
    deferred_.Resolve(Napi::Number::New(Env(), next_));
  }
  void OnError(const Napi::Error& e) override {
    m_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_, context_;
  Napi::Reference<Napi::Value> chunkRef_;  // keeps the native chunk alive
  MtmdContext* m_;
  mtmd_context* ctx_;
  llama_context* lctx_;
  const mtmd_input_chunk* chunk_ = nullptr;
  llama_pos pos_, next_ = 0;
  llama_seq_id seq_;
  int32_t nBatch_;
};
}  // namespace

Napi::Value MtmdContext::EvalImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mtmd_context* ctx = get(env);
  if (info.Length() < 2 || !info[1].IsExternal()) throw Napi::TypeError::New(env, "evalImage(context, chunk, options): chunk must be an image chunk's `chunk` from tokenize()");
  auto* lctx = static_cast<llama_context*>(handleOf(env, info[0], "context"));
  const mtmd_input_chunk* c = info[1].As<Napi::External<mtmd_input_chunk>>().Data();
  if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) throw Napi::TypeError::New(env, "evalImage: the chunk is a text chunk");
  Napi::Object opts = optObject(info, 2);
  auto pos = static_cast<llama_pos>(optNumber(opts, "pos", 0));
  auto seq = static_cast<llama_seq_id>(optNumber(opts, "seq", 0));
  auto nBatch = static_cast<int32_t>(optNumber(opts, "nBatch", llama_n_batch(lctx)));
  auto* w = new EvalWorker(env, this, ctx, Value(), info[0].As<Napi::Object>(), info[1], lctx, pos, seq, nBatch);
  busy_ = true;
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  mtmd_log_set(logCallback, nullptr);
  mtmd_helper_log_set(logCallback, nullptr);
  MtmdContext::Init(env, exports);
  exports.Set("defaultMarker", Napi::String::New(env, mtmd_default_marker()));
  return exports;
}

NODE_API_MODULE(llama_mtmd, InitModule)
