// Context.generate(): text generation of one or many candidates from one token prompt, the whole
// loop in C++ on the libuv thread pool. The prompt is evaluated once (sequence 0, keeping the
// first `reuse` positions already there), its KV is copied to candidate sequences 1..N-1
// (llama_memory_seq_cp; shared cells in a unified KV buffer), and every step decodes the next token of all unfinished candidates in
// one llama_batch; each candidate has its own sampler chain (own seed) and ends on its own (end of
// generation, a stop string, maxTokens). Candidate 0's text streams through onProgress. With a
// quorum below the candidate count, once that many have finished the stragglers other than
// candidate 0 are cut ("cut"): the longest samples, which would keep the batch running for the
// tail of steps while the answer is already among the finished ones. With evidenceFrom, the
// candidates from there on are a second group with its own quorum (evidenceQuorum), and `quorum`
// counts the first group only: samples drawn at another temperature (longer, as a rule) are cut
// among themselves, not as the first group's stragglers.
#include <algorithm>
#include <chrono>
#include "common.h"

namespace {
enum class Stop { None, Eos, String, MaxTokens, Cancelled, Cut };

const char* stopName(Stop s) {
  switch (s) {
    case Stop::Eos: return "eos";
    case Stop::String: return "stop";
    case Stop::MaxTokens: return "maxTokens";
    case Stop::Cancelled: return "cancelled";
    case Stop::Cut: return "cut";
    default: return "maxTokens";
  }
}

struct Candidate {
  llama_sampler* chain = nullptr;
  std::vector<llama_token> tokens;
  std::string text;  // UTF-8 bytes, cut before a stop string
  Stop stop = Stop::None;
  int32_t output = -1;  // index of its logits in the last decode
};

struct GenerateJob {
  std::vector<llama_token> prompt;
  int32_t reuse = 0;
  std::vector<SamplerSettings> settings;
  std::vector<std::string> stops;
  int32_t maxTokens = 0;
  int32_t quorum = 0;  // finished candidates after which the others but candidate 0 are cut
  int32_t evidenceFrom = 0;  // candidates from here on form the second group (= count: none)
  int32_t evidenceQuorum = 0;  // finished candidates of the second group after which its others are cut
  bool ignoreEos = false;
  bool stream = false;
};

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Progress record: int32 done, int32 tokens of candidate 0, then candidate 0's new text bytes.
using Progress = Napi::AsyncProgressQueueWorker<char>::ExecutionProgress;

class GenerateWorker : public Napi::AsyncProgressQueueWorker<char> {
 public:
  GenerateWorker(Napi::Env env, Napi::Object self, Context* c, llama_context* ctx, const llama_vocab* vocab, GenerateJob job, Napi::Function onProgress)
      : Napi::AsyncProgressQueueWorker<char>(env, "llamaEmbedGenerate"), deferred_(Napi::Promise::Deferred::New(env)), self_(Napi::Persistent(self)), c_(c), ctx_(ctx), vocab_(vocab), job_(std::move(job)) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }
  ~GenerateWorker() override {
    for (Candidate& k : cands_)
      if (k.chain) llama_sampler_free(k.chain);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    std::string err = run(progress);
    if (!err.empty()) SetError(err);
  }

  void OnProgress(const char* data, size_t count) override {
    if (onProgress_.IsEmpty() || count < 8) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    int32_t head[2];
    std::copy(data, data + 8, reinterpret_cast<char*>(head));
    onProgress_.Call({Napi::Buffer<char>::Copy(env, data + 8, count - 8), Napi::Number::New(env, head[1]), Napi::Number::New(env, head[0])});
  }

  void OnOK() override {
    Napi::Env env = Env();
    c_->busy = false;
    Napi::Object out = Napi::Object::New(env);
    Napi::Array list = Napi::Array::New(env, cands_.size());
    for (size_t i = 0; i < cands_.size(); i++) {
      const Candidate& k = cands_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("text", Napi::Buffer<char>::Copy(env, k.text.data(), k.text.size()));
      Napi::Int32Array t = Napi::Int32Array::New(env, k.tokens.size());
      std::copy(k.tokens.begin(), k.tokens.end(), t.Data());
      o.Set("tokens", t);
      o.Set("stopReason", stopName(k.stop));
      list.Set(static_cast<uint32_t>(i), o);
    }
    out.Set("candidates", list);
    out.Set("promptMs", promptMs_);
    out.Set("generateMs", generateMs_);
    out.Set("steps", steps_);
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override {
    c_->busy = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;  // keeps the Context alive while generating
  Napi::FunctionReference onProgress_;
  Context* c_;
  llama_context* ctx_;
  const llama_vocab* vocab_;
  GenerateJob job_;
  std::vector<Candidate> cands_;
  double promptMs_ = 0, generateMs_ = 0;
  int32_t steps_ = 0;

  std::string decodePrompt() {
    const int32_t nBatch = static_cast<int32_t>(llama_n_batch(ctx_));
    const int32_t n = static_cast<int32_t>(job_.prompt.size());
    llama_batch b = llama_batch_init(nBatch, 0, 1);
    std::string err;
    for (int32_t start = job_.reuse; start < n && err.empty(); start += nBatch) {
      b.n_tokens = 0;
      for (int32_t i = start; i < std::min(n, start + nBatch); i++) {
        const int32_t j = b.n_tokens++;
        b.token[j] = job_.prompt[i];
        b.pos[j] = i;
        b.n_seq_id[j] = 1;
        b.seq_id[j][0] = 0;
        b.logits[j] = i == n - 1;
      }
      const int32_t rc = llama_decode(ctx_, b);
      if (rc == 1) err = "the context is full (n_ctx " + std::to_string(llama_n_ctx(ctx_)) + ")";
      else if (rc != 0) err = "llama_decode failed (code " + std::to_string(rc) + ") on the prompt";
    }
    llama_batch_free(b);
    return err;
  }

  // Appends the token's text; returns whether a stop string now occurs (text cut before it).
  bool appendText(Candidate& k, llama_token t) {
    char buf[128];
    int32_t n = llama_token_to_piece(vocab_, t, buf, sizeof buf, 0, false);
    const size_t before = k.text.size();
    if (n < 0) {
      std::vector<char> big(static_cast<size_t>(-n));
      n = llama_token_to_piece(vocab_, t, big.data(), static_cast<int32_t>(big.size()), 0, false);
      if (n > 0) k.text.append(big.data(), static_cast<size_t>(n));
    } else {
      k.text.append(buf, static_cast<size_t>(n));
    }
    size_t cut = std::string::npos;
    for (const std::string& s : job_.stops) {
      if (s.empty()) continue;
      // A new occurrence must end in the new bytes.
      const size_t from = before >= s.size() ? before - s.size() + 1 : 0;
      const size_t at = k.text.find(s, from);
      if (at != std::string::npos && at < cut) cut = at;
    }
    if (cut == std::string::npos) return false;
    k.text.resize(cut);
    return true;
  }

  // Sends candidate 0's new text and the count of finished candidates, when either changed.
  void report(const ExecutionProgress& progress, int32_t done, size_t& sent0, int32_t& sentDone) {
    if (!job_.stream) return;
    const Candidate& k0 = cands_[0];
    if (k0.text.size() == sent0 && done == sentDone) return;
    sentDone = done;
    std::string rec(8, '\0');
    int32_t head[2] = {done, static_cast<int32_t>(k0.tokens.size())};
    std::copy(reinterpret_cast<char*>(head), reinterpret_cast<char*>(head) + 8, rec.begin());
    if (k0.text.size() > sent0) rec.append(k0.text, sent0, std::string::npos);
    sent0 = k0.text.size();
    progress.Send(rec.data(), rec.size());
  }

  std::string run(const ExecutionProgress& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    llama_memory_t mem = llama_get_memory(ctx_);
    const int32_t nSeq = static_cast<int32_t>(job_.settings.size());
    if (!llama_memory_seq_rm(mem, 0, job_.reuse, -1)) {
      llama_memory_seq_rm(mem, 0, -1, -1);
      job_.reuse = 0;
    }
    for (int32_t s = 1; s < static_cast<int32_t>(llama_n_seq_max(ctx_)); s++) llama_memory_seq_rm(mem, s, -1, -1);
    std::string err = decodePrompt();
    if (!err.empty()) return err;
    promptMs_ = msSince(t0);
    const auto t1 = std::chrono::steady_clock::now();
    for (int32_t s = 1; s < nSeq; s++) llama_memory_seq_cp(mem, 0, s, -1, -1);
    cands_.resize(static_cast<size_t>(nSeq));
    for (int32_t s = 0; s < nSeq; s++) cands_[s].chain = makeSamplerChain(vocab_, job_.settings[s]);

    const llama_pos p0 = static_cast<llama_pos>(job_.prompt.size());
    llama_batch b = llama_batch_init(nSeq, 0, 1);
    int32_t done = 0;
    int32_t doneFirst = 0;
    int32_t doneEvidence = 0;
    const auto finished = [&](int32_t s) {
      done++;
      (s < job_.evidenceFrom ? doneFirst : doneEvidence)++;
    };
    size_t sent0 = 0;
    int32_t sentDone = 0;
    for (int32_t step = 0; err.empty(); step++) {
      const bool cancel = c_->cancelRequested.load();
      const bool cutFirst = doneFirst >= job_.quorum;
      const bool cutEvidence = doneEvidence >= job_.evidenceQuorum;
      b.n_tokens = 0;
      for (int32_t s = 0; s < nSeq; s++) {
        Candidate& k = cands_[s];
        if (k.stop != Stop::None) continue;
        if (cancel || (s > 0 && (s < job_.evidenceFrom ? cutFirst : cutEvidence))) {
          k.stop = cancel ? Stop::Cancelled : Stop::Cut;
          finished(s);
          if (s > 0) llama_memory_seq_rm(mem, s, -1, -1);
          continue;
        }
        const llama_token t = llama_sampler_sample(k.chain, ctx_, step == 0 ? -1 : k.output);
        if (!job_.ignoreEos && llama_vocab_is_eog(vocab_, t)) k.stop = Stop::Eos;
        else {
          k.tokens.push_back(t);
          if (appendText(k, t)) k.stop = Stop::String;
          else if (static_cast<int32_t>(k.tokens.size()) >= job_.maxTokens) k.stop = Stop::MaxTokens;
        }
        if (k.stop != Stop::None) {
          finished(s);
          // Its cells are freed at once (sequence 0 keeps its KV for the next prompt).
          if (s > 0) llama_memory_seq_rm(mem, s, -1, -1);
          continue;
        }
        const int32_t j = b.n_tokens++;
        b.token[j] = t;
        b.pos[j] = p0 + step;
        b.n_seq_id[j] = 1;
        b.seq_id[j][0] = s;
        b.logits[j] = 1;
        k.output = j;
      }
      report(progress, done, sent0, sentDone);
      if (b.n_tokens == 0) break;
      const int32_t rc = llama_decode(ctx_, b);
      steps_++;
      if (rc == 1) err = "the context is full (n_ctx " + std::to_string(llama_n_ctx(ctx_)) + ") with " + std::to_string(b.n_tokens) + " candidates running";
      else if (rc != 0) err = "llama_decode failed (code " + std::to_string(rc) + ") at step " + std::to_string(step);
    }
    llama_batch_free(b);
    for (int32_t s = 1; s < nSeq; s++) llama_memory_seq_rm(mem, s, -1, -1);
    generateMs_ = msSince(t1);
    return err;
  }
};

std::vector<std::string> stringList(const Napi::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).ToString().Utf8Value());
  return out;
}
}  // namespace

// generate(prompt: Int32Array, { candidates: SamplerOptions[] (default [{}]), reuse = 0, stop = [],
//   maxTokens = 256, quorum = candidates, evidenceFrom = candidates, evidenceQuorum = candidates -
//   evidenceFrom, ignoreEos = false, onProgress?(text0: Buffer, tokens0, done) })
//   -> Promise<{ candidates: { text: Buffer, tokens: Int32Array, stopReason }[], promptMs, generateMs, steps }>
Napi::Value Context::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  llama_context* ctx = get(env);
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "generate(prompt, options): prompt must be an Int32Array of tokens");
  const llama_vocab* vocab = llama_model_get_vocab(model_.get());
  GenerateJob job;
  Napi::Int32Array p = info[0].As<Napi::Int32Array>();
  job.prompt.assign(p.Data(), p.Data() + p.ElementLength());
  const int32_t nVocab = llama_vocab_n_tokens(vocab);
  for (llama_token t : job.prompt)
    if (t < 0 || t >= nVocab) throw Napi::RangeError::New(env, "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(nVocab - 1) + ")");
  Napi::Object opts = optObject(info, 1);
  job.reuse = static_cast<int32_t>(optNumber(opts, "reuse", 0));
  if (job.prompt.empty()) throw Napi::RangeError::New(env, "generate: the prompt is empty");
  if (job.reuse < 0 || job.reuse >= static_cast<int32_t>(job.prompt.size())) throw Napi::RangeError::New(env, "generate: reuse must be in 0..prompt length - 1 (the last prompt token gives the first logits)");
  job.maxTokens = static_cast<int32_t>(optNumber(opts, "maxTokens", 256));
  if (job.maxTokens < 1) throw Napi::RangeError::New(env, "generate: maxTokens must be >= 1");
  job.ignoreEos = optBool(opts, "ignoreEos", false);
  job.stops = stringList(opts.Get("stop"));
  Napi::Value cands = opts.Get("candidates");
  if (cands.IsArray()) {
    Napi::Array a = cands.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value o = a.Get(i);
      job.settings.push_back(parseSamplerSettings(o.IsObject() ? o.As<Napi::Object>() : Napi::Object::New(env)));
    }
  }
  if (job.settings.empty()) job.settings.push_back(parseSamplerSettings(Napi::Object::New(env)));
  const double quorum = optNumber(opts, "quorum", static_cast<double>(job.settings.size()));
  if (job.settings.size() > llama_n_seq_max(ctx))
    throw Napi::RangeError::New(env, "generate: " + std::to_string(job.settings.size()) + " candidates need as many sequences; the context has " + std::to_string(llama_n_seq_max(ctx)));
  if (!(quorum >= 1 && quorum <= static_cast<double>(job.settings.size())))
    throw Napi::RangeError::New(env, "generate: quorum must be from 1 to the number of candidates (" + std::to_string(job.settings.size()) + ")");
  const int32_t n = static_cast<int32_t>(job.settings.size());
  const double from = optNumber(opts, "evidenceFrom", static_cast<double>(n));
  if (!(from >= 1 && from <= n && from == static_cast<int32_t>(from)))
    throw Napi::RangeError::New(env, "generate: evidenceFrom must be an integer from 1 to the number of candidates (" + std::to_string(n) + ")");
  job.evidenceFrom = static_cast<int32_t>(from);
  const double evidenceQuorum = optNumber(opts, "evidenceQuorum", static_cast<double>(n - job.evidenceFrom));
  if (!(evidenceQuorum >= 0 && evidenceQuorum <= n - job.evidenceFrom))
    throw Napi::RangeError::New(env, "generate: evidenceQuorum must be from 0 to the evidence candidates (" + std::to_string(n - job.evidenceFrom) + ")");
  if (quorum > job.evidenceFrom)
    throw Napi::RangeError::New(env, "generate: quorum must be at most the candidates before evidenceFrom (" + std::to_string(job.evidenceFrom) + ")");
  job.quorum = static_cast<int32_t>(quorum);
  job.evidenceQuorum = static_cast<int32_t>(evidenceQuorum);
  Napi::Value cb = opts.Get("onProgress");
  Napi::Function onProgress = cb.IsFunction() ? cb.As<Napi::Function>() : Napi::Function();
  job.stream = cb.IsFunction();
  busy = true;
  cancelRequested = false;
  auto* w = new GenerateWorker(env, info.This().As<Napi::Object>(), this, ctx, vocab, std::move(job), onProgress);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

// cancel(): the running generate() stops at its next step (its candidates end "cancelled").
Napi::Value Context::Cancel(const Napi::CallbackInfo& info) {
  if (busy) cancelRequested = true;
  return info.Env().Undefined();
}
