// Context: a llama_context with n_seq sequences. decode() takes token ids (Int32Array) or
// float embeddings (Float32Array, n_embd per position) at explicit positions of one sequence;
// large inputs are split into n_batch chunks. Async decode runs on the libuv thread pool.
#include <algorithm>
#include <thread>
#include "common.h"

Napi::FunctionReference Context::ctor;

void Context::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "Context", {
    InstanceMethod("decode", &Context::Decode),
    InstanceMethod("decodeSync", &Context::DecodeSync),
    InstanceMethod("logits", &Context::Logits),
    InstanceMethod("seqRemove", &Context::SeqRemove),
    InstanceMethod("seqPosMax", &Context::SeqPosMax),
    InstanceMethod("clear", &Context::Clear),
    InstanceMethod("nCtx", &Context::NCtx),
    InstanceMethod("nSeq", &Context::NSeq),
    InstanceMethod("free", &Context::Free),
    InstanceMethod("generate", &Context::Generate),
    InstanceMethod("cancel", &Context::Cancel),
    InstanceMethod("_handle", &Context::Handle),
  });
  ctor = Napi::Persistent(f);
  exports.Set("Context", f);
}

// new Context(model, { nCtx = 2048, nSeq = 1, nBatch = 512, nThreads, nThreadsBatch, kvUnified = false,
//                      flashAttention (default: llama.cpp's auto) })
// kvUnified: one KV buffer shared by all sequences (n_ctx in all), so sequences copied from a
// common prompt share its cells instead of each holding n_ctx / nSeq.
Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Model::ctor.Value()))
    throw Napi::TypeError::New(env, "new Context(model, options): model must be a Model");
  Model* m = Model::Unwrap(info[0].As<Napi::Object>());
  model_ = m->get(env);
  Napi::Object opts = optObject(info, 1);
  llama_context_params p = llama_context_default_params();
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  p.n_ctx = static_cast<uint32_t>(optNumber(opts, "nCtx", 2048));
  p.n_seq_max = static_cast<uint32_t>(optNumber(opts, "nSeq", 1));
  p.n_batch = static_cast<uint32_t>(optNumber(opts, "nBatch", 512));
  p.n_ubatch = std::min(p.n_batch, p.n_ubatch);
  p.n_threads = static_cast<int32_t>(optNumber(opts, "nThreads", hw));
  p.n_threads_batch = static_cast<int32_t>(optNumber(opts, "nThreadsBatch", p.n_threads));
  p.kv_unified = optBool(opts, "kvUnified", false);
  if (opts.Has("flashAttention")) p.flash_attn_type = optBool(opts, "flashAttention", true) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  p.no_perf = true;
  ctx_ = llama_init_from_model(model_.get(), p);
  if (!ctx_) throw Napi::Error::New(env, "llama.cpp could not create a context (n_ctx " + std::to_string(p.n_ctx) + ", n_seq " + std::to_string(p.n_seq_max) + ")");
}

Context::~Context() {
  if (ctx_) llama_free(ctx_);
}

llama_context* Context::get(Napi::Env env) {
  if (!ctx_) throw Napi::Error::New(env, "the context was freed");
  if (busy) throw Napi::Error::New(env, "the context is busy with a decode");
  return ctx_;
}

namespace {
enum class LogitsMode { None, Last, All };

struct DecodeJob {
  std::vector<llama_token> tokens;
  std::vector<float> embd;
  int32_t nTokens = 0;
  int32_t nEmbd = 0;
  llama_pos pos0 = 0;
  llama_seq_id seq = 0;
  LogitsMode logits = LogitsMode::Last;
};

DecodeJob parseJob(const Napi::CallbackInfo& info, llama_context* ctx, const llama_model* model) {
  Napi::Env env = info.Env();
  DecodeJob j;
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "decode(input, options): input must be an Int32Array of tokens or a Float32Array of embeddings");
  Napi::TypedArray input = info[0].As<Napi::TypedArray>();
  if (input.TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = input.As<Napi::Int32Array>();
    j.tokens.assign(a.Data(), a.Data() + a.ElementLength());
    j.nTokens = static_cast<int32_t>(a.ElementLength());
    int32_t nVocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    for (llama_token t : j.tokens)
      if (t < 0 || t >= nVocab) throw Napi::RangeError::New(env, "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(nVocab - 1) + ")");
  } else if (input.TypedArrayType() == napi_float32_array) {
    Napi::Float32Array a = input.As<Napi::Float32Array>();
    j.nEmbd = llama_model_n_embd_inp(model);
    if (a.ElementLength() % static_cast<size_t>(j.nEmbd) != 0)
      throw Napi::RangeError::New(env, "embeddings length " + std::to_string(a.ElementLength()) + " is not a multiple of n_embd " + std::to_string(j.nEmbd));
    j.embd.assign(a.Data(), a.Data() + a.ElementLength());
    j.nTokens = static_cast<int32_t>(a.ElementLength() / static_cast<size_t>(j.nEmbd));
  } else {
    throw Napi::TypeError::New(env, "decode input must be an Int32Array or a Float32Array");
  }
  if (j.nTokens == 0) throw Napi::RangeError::New(env, "decode input is empty");
  Napi::Object opts = optObject(info, 1);
  j.pos0 = static_cast<llama_pos>(optNumber(opts, "pos", 0));
  j.seq = static_cast<llama_seq_id>(optNumber(opts, "seq", 0));
  if (j.seq < 0 || static_cast<uint32_t>(j.seq) >= llama_n_seq_max(ctx)) throw Napi::RangeError::New(env, "seq " + std::to_string(j.seq) + " is outside 0.." + std::to_string(llama_n_seq_max(ctx) - 1));
  std::string mode = opts.Has("logits") ? opts.Get("logits").ToString().Utf8Value() : "last";
  j.logits = mode == "all" ? LogitsMode::All : mode == "none" ? LogitsMode::None : LogitsMode::Last;
  if (mode != "all" && mode != "none" && mode != "last") throw Napi::TypeError::New(env, "logits must be \"last\", \"all\" or \"none\"");
  if (j.logits == LogitsMode::All && static_cast<uint32_t>(j.nTokens) > llama_n_batch(ctx))
    throw Napi::RangeError::New(env, "logits \"all\" needs the input to fit one batch (" + std::to_string(llama_n_batch(ctx)) + ")");
  return j;
}

// Returns an empty string on success, else the reason.
std::string runDecode(llama_context* ctx, DecodeJob& j) {
  const int32_t nBatch = static_cast<int32_t>(llama_n_batch(ctx));
  std::vector<llama_pos> pos(static_cast<size_t>(std::min(nBatch, j.nTokens)));
  std::vector<int32_t> nSeq(pos.size(), 1);
  std::vector<llama_seq_id*> seqIds(pos.size(), &j.seq);
  std::vector<int8_t> logits(pos.size());
  for (int32_t start = 0; start < j.nTokens; start += nBatch) {
    const int32_t n = std::min(nBatch, j.nTokens - start);
    for (int32_t i = 0; i < n; i++) {
      pos[i] = j.pos0 + start + i;
      logits[i] = j.logits == LogitsMode::All || (j.logits == LogitsMode::Last && start + i == j.nTokens - 1);
    }
    llama_batch b{};
    b.n_tokens = n;
    if (j.embd.empty()) b.token = j.tokens.data() + start;
    else b.embd = j.embd.data() + static_cast<size_t>(start) * j.nEmbd;
    b.pos = pos.data();
    b.n_seq_id = nSeq.data();
    b.seq_id = seqIds.data();
    b.logits = logits.data();
    const int32_t rc = llama_decode(ctx, b);
    if (rc == 1) return "the context is full (n_ctx " + std::to_string(llama_n_ctx(ctx)) + ")";
    if (rc != 0) return "llama_decode failed (code " + std::to_string(rc) + ") at positions " + std::to_string(j.pos0 + start) + ".." + std::to_string(j.pos0 + start + n - 1);
  }
  return "";
}

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Object self, Context* c, llama_context* ctx, DecodeJob job)
      : Napi::AsyncWorker(env, "llamaEmbedDecode"), deferred_(Napi::Promise::Deferred::New(env)), self_(Napi::Persistent(self)), c_(c), ctx_(ctx), job_(std::move(job)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::string err = runDecode(ctx_, job_);
    if (!err.empty()) SetError(err);
  }
  void OnOK() override {
    c_->busy = false;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    c_->busy = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;  // keeps the Context alive while decoding
  Context* c_;
  llama_context* ctx_;
  DecodeJob job_;
};
}  // namespace

// decode(input, { pos = 0, seq = 0, logits = "last" }) -> Promise<void>
Napi::Value Context::Decode(const Napi::CallbackInfo& info) {
  llama_context* ctx = get(info.Env());
  DecodeJob job = parseJob(info, ctx, model_.get());
  busy = true;
  auto* w = new DecodeWorker(info.Env(), info.This().As<Napi::Object>(), this, ctx, std::move(job));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Context::DecodeSync(const Napi::CallbackInfo& info) {
  llama_context* ctx = get(info.Env());
  DecodeJob job = parseJob(info, ctx, model_.get());
  std::string err = runDecode(ctx, job);
  if (!err.empty()) throw Napi::Error::New(info.Env(), err);
  return info.Env().Undefined();
}

// logits(i = -1) -> Float32Array(n_vocab): the i-th output of the last decode (-1: the last one)
Napi::Value Context::Logits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  llama_context* ctx = get(env);
  int32_t i = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  const float* l = llama_get_logits_ith(ctx, i);
  if (!l) throw Napi::RangeError::New(env, "no logits for output " + std::to_string(i) + " of the last decode");
  int32_t n = llama_vocab_n_tokens(llama_model_get_vocab(model_.get()));
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(n));
  std::copy(l, l + n, out.Data());
  return out;
}

// seqRemove(seq, p0 = -1, p1 = -1) -> boolean: drops positions [p0, p1) of a sequence (-1: open end)
Napi::Value Context::SeqRemove(const Napi::CallbackInfo& info) {
  llama_context* ctx = get(info.Env());
  auto arg = [&](size_t i, int32_t def) { return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : def; };
  return Napi::Boolean::New(info.Env(), llama_memory_seq_rm(llama_get_memory(ctx), arg(0, -1), arg(1, -1), arg(2, -1)));
}

// seqPosMax(seq) -> number: the largest position held for the sequence (-1 when empty)
Napi::Value Context::SeqPosMax(const Napi::CallbackInfo& info) {
  llama_context* ctx = get(info.Env());
  int32_t seq = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  return Napi::Number::New(info.Env(), llama_memory_seq_pos_max(llama_get_memory(ctx), seq));
}

Napi::Value Context::Clear(const Napi::CallbackInfo& info) {
  llama_memory_clear(llama_get_memory(get(info.Env())), true);
  return info.Env().Undefined();
}

Napi::Value Context::NCtx(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_n_ctx(get(info.Env()))); }
Napi::Value Context::NSeq(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_n_seq_max(get(info.Env()))); }

Napi::Value Context::Free(const Napi::CallbackInfo& info) {
  if (busy) throw Napi::Error::New(info.Env(), "cannot free a context while it decodes");
  if (ctx_) llama_free(ctx_);
  ctx_ = nullptr;
  model_.reset();
  return info.Env().Undefined();
}

// _handle() -> External: the llama_context, for the multimodal module's evalImage (which holds a
// reference to this object while it decodes).
Napi::Value Context::Handle(const Napi::CallbackInfo& info) {
  return Napi::External<llama_context>::New(info.Env(), get(info.Env()));
}
