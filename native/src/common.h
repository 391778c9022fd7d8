// Shared declarations of the llama-embed addon: four wrapped classes (Model, Context, Sampler, Lexicon)
// over llama.cpp's C API, plus the module-level init.
#pragma once
#include <napi.h>
#include <atomic>
#include <memory>
#include <string>
#include <vector>
#include "llama.h"

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::FunctionReference ctor;
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Model(const Napi::CallbackInfo& info);
  ~Model() override;
  // The llama_model is freed when the Model and every Context made from it are freed.
  std::shared_ptr<llama_model> get(Napi::Env env);  // throws when freed
  const llama_vocab* vocab() const { return llama_model_get_vocab(model_.get()); }

 private:
  std::shared_ptr<llama_model> model_;
  Napi::Value NEmbd(const Napi::CallbackInfo& info);
  Napi::Value NVocab(const Napi::CallbackInfo& info);
  Napi::Value NLayer(const Napi::CallbackInfo& info);
  Napi::Value NCtxTrain(const Napi::CallbackInfo& info);
  Napi::Value Bos(const Napi::CallbackInfo& info);
  Napi::Value Eos(const Napi::CallbackInfo& info);
  Napi::Value IsEog(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenToPiece(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value Description(const Napi::CallbackInfo& info);
  Napi::Value SizeBytes(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value Handle(const Napi::CallbackInfo& info);
  Napi::Value ChatTemplate(const Napi::CallbackInfo& info);
  Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info);
};

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::FunctionReference ctor;
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;
  llama_context* get(Napi::Env env);  // throws when freed or busy
  std::atomic<bool> busy{false};
  // Set by cancel(): a running generate() stops at its next step.
  std::atomic<bool> cancelRequested{false};

 private:
  std::shared_ptr<llama_model> model_;
  llama_context* ctx_ = nullptr;
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  Napi::Value Logits(const Napi::CallbackInfo& info);
  Napi::Value SeqRemove(const Napi::CallbackInfo& info);
  Napi::Value SeqPosMax(const Napi::CallbackInfo& info);
  Napi::Value Clear(const Napi::CallbackInfo& info);
  Napi::Value NCtx(const Napi::CallbackInfo& info);
  Napi::Value NSeq(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);  // generate.cc
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Handle(const Napi::CallbackInfo& info);
};

// A word list generation keeps to (lexicon.cc): its trie and the model's token pieces, built once.
struct LexiconData;

class Lexicon : public Napi::ObjectWrap<Lexicon> {
 public:
  static Napi::FunctionReference ctor;
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Lexicon(const Napi::CallbackInfo& info);
  std::shared_ptr<const LexiconData> data() const { return data_; }

 private:
  std::shared_ptr<const LexiconData> data_;
  Napi::Value Size(const Napi::CallbackInfo& info);
};

// A sampler that masks the tokens leaving the lexicon (first in a chain); `vocab` is the chain's;
// with maxTokens > 0 the token that makes it maxTokens accepted tokens must leave the word complete.
llama_sampler* makeLexiconSampler(const std::shared_ptr<const LexiconData>& data, const llama_vocab* vocab, int32_t maxTokens);

// The settings of one sampler chain (see sampler.cc), read from a JS options object.
struct SamplerSettings {
  float temperature = 0.8f;
  int32_t topK = 40;
  float topP = 0.95f;
  float minP = 0;
  float repeatPenalty = 1;
  int32_t repeatLastN = 64;
  uint32_t seed = LLAMA_DEFAULT_SEED;
  std::shared_ptr<const LexiconData> lexicon;  // none: unconstrained
  int32_t lexiconMaxTokens = 0;                // where the text is cut (0: unknown)
};
SamplerSettings parseSamplerSettings(const Napi::Object& o);
// [lexicon ->] repeat penalty -> top-k -> top-p -> min-p -> temperature -> seeded dist; greedy when temperature <= 0.
llama_sampler* makeSamplerChain(const llama_vocab* vocab, const SamplerSettings& s);

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::FunctionReference ctor;
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Sampler(const Napi::CallbackInfo& info);
  ~Sampler() override;

 private:
  llama_sampler* chain_ = nullptr;
  llama_sampler* get(Napi::Env env);
  Napi::Value Sample(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
};

// Option helpers: read a property of an options object, or the default when absent/undefined.
double optNumber(const Napi::Object& o, const char* key, double def);
bool optBool(const Napi::Object& o, const char* key, bool def);
Napi::Object optObject(const Napi::CallbackInfo& info, size_t i);
