// Sampler: a llama.cpp sampler chain ([lexicon ->] repeat penalty -> top-k -> top-p -> min-p -> temperature
// -> seeded dist; greedy when temperature <= 0).
#include "common.h"

Napi::FunctionReference Sampler::ctor;

SamplerSettings parseSamplerSettings(const Napi::Object& o) {
  SamplerSettings s;
  s.temperature = static_cast<float>(optNumber(o, "temperature", s.temperature));
  s.topK = static_cast<int32_t>(optNumber(o, "topK", s.topK));
  s.topP = static_cast<float>(optNumber(o, "topP", s.topP));
  s.minP = static_cast<float>(optNumber(o, "minP", s.minP));
  s.repeatPenalty = static_cast<float>(optNumber(o, "repeatPenalty", s.repeatPenalty));
  s.repeatLastN = static_cast<int32_t>(optNumber(o, "repeatLastN", s.repeatLastN));
  s.seed = static_cast<uint32_t>(optNumber(o, "seed", s.seed));
  if (s.repeatPenalty <= 0) throw Napi::RangeError::New(o.Env(), "repeatPenalty must be > 0");
  Napi::Value lex = o.Get("lexicon");
  if (!lex.IsUndefined() && !lex.IsNull()) {
    if (!lex.IsObject() || !lex.As<Napi::Object>().InstanceOf(Lexicon::ctor.Value())) throw Napi::TypeError::New(o.Env(), "option lexicon must be a Lexicon");
    s.lexicon = Lexicon::Unwrap(lex.As<Napi::Object>())->data();
    s.lexiconMaxTokens = static_cast<int32_t>(optNumber(o, "lexiconMaxTokens", 0));
  }
  return s;
}

llama_sampler* makeSamplerChain(const llama_vocab* vocab, const SamplerSettings& s) {
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  if (s.lexicon) llama_sampler_chain_add(chain, makeLexiconSampler(s.lexicon, vocab, s.lexiconMaxTokens));
  if (s.repeatPenalty != 1.0f && s.repeatLastN != 0)
    llama_sampler_chain_add(chain, llama_sampler_init_penalties(llama_vocab_n_tokens(vocab), s.repeatLastN, s.repeatPenalty, 0, 0));
  if (s.temperature <= 0) {
    llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    return chain;
  }
  if (s.topK > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(s.topK));
  if (s.topP < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(s.topP, 1));
  if (s.minP > 0) llama_sampler_chain_add(chain, llama_sampler_init_min_p(s.minP, 1));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(s.temperature));
  llama_sampler_chain_add(chain, llama_sampler_init_dist(s.seed));
  return chain;
}

void Sampler::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "Sampler", {
    InstanceMethod("sample", &Sampler::Sample),
    InstanceMethod("accept", &Sampler::Accept),
    InstanceMethod("reset", &Sampler::Reset),
    InstanceMethod("free", &Sampler::Free),
  });
  ctor = Napi::Persistent(f);
  exports.Set("Sampler", f);
}

// new Sampler(model, { temperature = 0.8, topK = 40, topP = 0.95, minP = 0, repeatPenalty = 1,
//                      repeatLastN = 64, seed, lexicon?: Lexicon,
//                      lexiconMaxTokens = 0 })
Sampler::Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Model::ctor.Value()))
    throw Napi::TypeError::New(env, "new Sampler(model, options): model must be a Model");
  Model* m = Model::Unwrap(info[0].As<Napi::Object>());
  m->get(env);
  chain_ = makeSamplerChain(m->vocab(), parseSamplerSettings(optObject(info, 1)));
}

Sampler::~Sampler() {
  if (chain_) llama_sampler_free(chain_);
}

llama_sampler* Sampler::get(Napi::Env env) {
  if (!chain_) throw Napi::Error::New(env, "the sampler was freed");
  return chain_;
}

// sample(context, i = -1) -> token: samples from output i of the context's last decode and
// records the token for the repeat penalty.
Napi::Value Sampler::Sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  llama_sampler* s = get(env);
  if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Context::ctor.Value()))
    throw Napi::TypeError::New(env, "sample(context, i): context must be a Context");
  llama_context* ctx = Context::Unwrap(info[0].As<Napi::Object>())->get(env);
  int32_t i = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
  return Napi::Number::New(env, llama_sampler_sample(s, ctx, i));
}

// accept(token | Int32Array): records tokens (e.g. the prompt) for the repeat penalty.
Napi::Value Sampler::Accept(const Napi::CallbackInfo& info) {
  llama_sampler* s = get(info.Env());
  if (info.Length() > 0 && info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = info[0].As<Napi::Int32Array>();
    for (size_t k = 0; k < a.ElementLength(); k++) llama_sampler_accept(s, a[k]);
  } else if (info.Length() > 0 && info[0].IsNumber()) {
    llama_sampler_accept(s, info[0].As<Napi::Number>().Int32Value());
  } else {
    throw Napi::TypeError::New(info.Env(), "accept(token | Int32Array)");
  }
  return info.Env().Undefined();
}

Napi::Value Sampler::Reset(const Napi::CallbackInfo& info) {
  llama_sampler_reset(get(info.Env()));
  return info.Env().Undefined();
}

Napi::Value Sampler::Free(const Napi::CallbackInfo& info) {
  if (chain_) llama_sampler_free(chain_);
  chain_ = nullptr;
  return info.Env().Undefined();
}
