// Model: a loaded GGUF (loadModel is async), its vocabulary (tokenize, pieces, special tokens)
// and sizes.
#include "common.h"

Napi::FunctionReference Model::ctor;

namespace {
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, llama_model_params params)
      : Napi::AsyncWorker(env, "llamaEmbedLoad"), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), params_(params) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    model_ = llama_model_load_from_file(path_.c_str(), params_);
    if (!model_) SetError("llama.cpp could not load the model " + path_ + " (not a GGUF it supports, or truncated)");
  }
  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(Model::ctor.New({Napi::External<llama_model>::New(env, model_)}));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  llama_model_params params_;
  llama_model* model_ = nullptr;
};

// loadModel(path, { gpuLayers = 0, useMmap = true }) -> Promise<Model>
Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadModel(path, options): path must be a string");
  Napi::Object opts = optObject(info, 1);
  llama_model_params p = llama_model_default_params();
  p.n_gpu_layers = static_cast<int32_t>(optNumber(opts, "gpuLayers", 0));
  if (!optBool(opts, "useMmap", true)) p.load_mode = LLAMA_LOAD_MODE_NONE;
  auto* w = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), p);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}
}  // namespace

void Model::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "Model", {
    InstanceMethod("nEmbd", &Model::NEmbd),
    InstanceMethod("nVocab", &Model::NVocab),
    InstanceMethod("nLayer", &Model::NLayer),
    InstanceMethod("nCtxTrain", &Model::NCtxTrain),
    InstanceMethod("bos", &Model::Bos),
    InstanceMethod("eos", &Model::Eos),
    InstanceMethod("isEog", &Model::IsEog),
    InstanceMethod("tokenize", &Model::Tokenize),
    InstanceMethod("tokenToPiece", &Model::TokenToPiece),
    InstanceMethod("detokenize", &Model::Detokenize),
    InstanceMethod("description", &Model::Description),
    InstanceMethod("sizeBytes", &Model::SizeBytes),
    InstanceMethod("free", &Model::Free),
    InstanceMethod("_handle", &Model::Handle),
    InstanceMethod("chatTemplate", &Model::ChatTemplate),
    InstanceMethod("applyChatTemplate", &Model::ApplyChatTemplate),
  });
  ctor = Napi::Persistent(f);
  exports.Set("Model", f);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel));
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "use loadModel(path, options) to create a Model");
  model_.reset(info[0].As<Napi::External<llama_model>>().Data(), llama_model_free);
}

Model::~Model() = default;

std::shared_ptr<llama_model> Model::get(Napi::Env env) {
  if (!model_) throw Napi::Error::New(env, "the model was freed");
  return model_;
}

static llama_token tokenArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "token id must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Value Model::NEmbd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_model_n_embd_inp(get(info.Env()).get())); }
Napi::Value Model::NVocab(const Napi::CallbackInfo& info) { get(info.Env()); return Napi::Number::New(info.Env(), llama_vocab_n_tokens(vocab())); }
Napi::Value Model::NLayer(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_model_n_layer(get(info.Env()).get())); }
Napi::Value Model::NCtxTrain(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), llama_model_n_ctx_train(get(info.Env()).get())); }
Napi::Value Model::Bos(const Napi::CallbackInfo& info) { get(info.Env()); return Napi::Number::New(info.Env(), llama_vocab_bos(vocab())); }
Napi::Value Model::Eos(const Napi::CallbackInfo& info) { get(info.Env()); return Napi::Number::New(info.Env(), llama_vocab_eos(vocab())); }
Napi::Value Model::IsEog(const Napi::CallbackInfo& info) {
  get(info.Env());
  return Napi::Boolean::New(info.Env(), llama_vocab_is_eog(vocab(), tokenArg(info, 0)));
}

// tokenize(text, addSpecial = true, parseSpecial = false) -> Int32Array
Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  get(env);
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "tokenize(text): text must be a string");
  std::string text = info[0].As<Napi::String>().Utf8Value();
  bool addSpecial = info.Length() > 1 ? info[1].ToBoolean().Value() : true;
  bool parseSpecial = info.Length() > 2 ? info[2].ToBoolean().Value() : false;
  std::vector<llama_token> toks(text.size() + 4);
  int32_t n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), toks.data(), static_cast<int32_t>(toks.size()), addSpecial, parseSpecial);
  if (n < 0) {
    toks.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), toks.data(), static_cast<int32_t>(toks.size()), addSpecial, parseSpecial);
  }
  if (n < 0) throw Napi::Error::New(env, "tokenize failed");
  Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n));
  std::copy(toks.begin(), toks.begin() + n, out.Data());
  return out;
}

// tokenToPiece(token, special = false) -> Buffer (raw bytes: a piece may be part of a UTF-8 character)
Napi::Value Model::TokenToPiece(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  get(env);
  llama_token t = tokenArg(info, 0);
  bool special = info.Length() > 1 && info[1].ToBoolean().Value();
  std::vector<char> buf(64);
  int32_t n = llama_token_to_piece(vocab(), t, buf.data(), static_cast<int32_t>(buf.size()), 0, special);
  if (n < 0) {
    buf.resize(static_cast<size_t>(-n));
    n = llama_token_to_piece(vocab(), t, buf.data(), static_cast<int32_t>(buf.size()), 0, special);
  }
  if (n < 0) throw Napi::Error::New(env, "tokenToPiece failed");
  return Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(n));
}

// detokenize(tokens: Int32Array, special = false) -> string
Napi::Value Model::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  get(env);
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "detokenize(tokens): tokens must be an Int32Array");
  Napi::Int32Array toks = info[0].As<Napi::Int32Array>();
  bool special = info.Length() > 1 && info[1].ToBoolean().Value();
  std::vector<char> buf(toks.ElementLength() * 8 + 16);
  int32_t n = llama_detokenize(vocab(), toks.Data(), static_cast<int32_t>(toks.ElementLength()), buf.data(), static_cast<int32_t>(buf.size()), false, special);
  if (n < 0) {
    buf.resize(static_cast<size_t>(-n));
    n = llama_detokenize(vocab(), toks.Data(), static_cast<int32_t>(toks.ElementLength()), buf.data(), static_cast<int32_t>(buf.size()), false, special);
  }
  if (n < 0) throw Napi::Error::New(env, "detokenize failed");
  return Napi::String::New(env, buf.data(), static_cast<size_t>(n));
}

Napi::Value Model::Description(const Napi::CallbackInfo& info) {
  char buf[256];
  int32_t n = llama_model_desc(get(info.Env()).get(), buf, sizeof buf);
  return Napi::String::New(info.Env(), buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
}

Napi::Value Model::SizeBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(llama_model_size(get(info.Env()).get())));
}

Napi::Value Model::Free(const Napi::CallbackInfo& info) {
  model_.reset();
  return info.Env().Undefined();
}

// _handle() -> External: a new reference (std::shared_ptr) to the llama_model, for the multimodal
// module (llama_mtmd.node), which keeps the model alive as long as it uses it.
Napi::Value Model::Handle(const Napi::CallbackInfo& info) {
  auto* ref = new std::shared_ptr<llama_model>(get(info.Env()));
  return Napi::External<std::shared_ptr<llama_model>>::New(info.Env(), ref, [](Napi::Env, std::shared_ptr<llama_model>* p) { delete p; });
}

// chatTemplate() -> string | undefined: the GGUF's tokenizer.chat_template
Napi::Value Model::ChatTemplate(const Napi::CallbackInfo& info) {
  const char* t = llama_model_chat_template(get(info.Env()).get(), nullptr);
  return t ? Napi::String::New(info.Env(), t) : info.Env().Undefined();
}

// applyChatTemplate(messages: { role, content }[], addAssistant = true, template?) -> string:
// llama.cpp's llama_chat_apply_template with the GGUF's own template (or the one given); it
// recognises the built-in formats (gemma, llava/vicuna, chatml, llama3, ...) from the template text.
Napi::Value Model::ApplyChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "applyChatTemplate(messages): messages must be an array of { role, content }");
  Napi::Array a = info[0].As<Napi::Array>();
  bool addAssistant = info.Length() > 1 ? info[1].ToBoolean().Value() : true;
  std::string tmpl;
  if (info.Length() > 2 && info[2].IsString()) tmpl = info[2].As<Napi::String>().Utf8Value();
  else {
    const char* t = llama_model_chat_template(get(env).get(), nullptr);
    if (!t) throw Napi::Error::New(env, "the model has no chat template (tokenizer.chat_template)");
    tmpl = t;
  }
  std::vector<std::string> roles, contents;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsObject()) throw Napi::TypeError::New(env, "applyChatTemplate: each message must be { role, content }");
    roles.push_back(v.As<Napi::Object>().Get("role").ToString().Utf8Value());
    contents.push_back(v.As<Napi::Object>().Get("content").ToString().Utf8Value());
  }
  std::vector<llama_chat_message> msgs;
  size_t total = 0;
  for (size_t i = 0; i < roles.size(); i++) {
    msgs.push_back({roles[i].c_str(), contents[i].c_str()});
    total += roles[i].size() + contents[i].size();
  }
  std::vector<char> buf(total * 2 + 256);
  int32_t n = llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), addAssistant, buf.data(), static_cast<int32_t>(buf.size()));
  if (n > static_cast<int32_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n));
    n = llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), addAssistant, buf.data(), static_cast<int32_t>(buf.size()));
  }
  if (n < 0) throw Napi::Error::New(env, "llama.cpp does not recognise the model's chat template (llama_chat_apply_template supports its built-in formats only)");
  return Napi::String::New(env, buf.data(), static_cast<size_t>(n));
}
