// Lexicon: a word list that generation keeps to, as a llama_sampler placed first in a chain. A
// word is a maximal run of ASCII letters, spelt as a lexicon word in lower case, Capitalized or in
// capitals ("heart", "Heart", "PICC"; never "ordERED": what server/src/metrics/answer-checks.ts
// counts as a word); everything else (space, the SentencePiece '▁' rendered as a space,
// punctuation, digits, other bytes) separates words. A token is allowed when its piece keeps the
// current word a prefix of a lexicon word in one of those casings and every word it ends is a
// lexicon word; an end-of-generation token when the current word is complete; a token that writes
// nothing never.
// When nothing fits, only the end tokens are left (the generation ends). The trie and each token's
// piece are built once per Lexicon object (one per model), and the allowed tokens once per trie node
// and casing reached; a sampler holds only its position (node and casing).
#include <array>
#include <atomic>
#include <cmath>
#include "common.h"

Napi::FunctionReference Lexicon::ctor;

namespace {
constexpr int32_t ROOT = 0;
// Inside a word that is not in the lexicon (only reachable through accept() of a token the
// constraint did not choose, e.g. a prompt): only a separator or an end is allowed.
constexpr int32_t OUTSIDE = -1;
constexpr int32_t REJECT = -2;

inline int letter(unsigned char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  return -1;
}

// The casing of the word so far: no letter yet, lower case, one capital, Capitalized, capitals.
enum Casing : uint8_t { START, LOWER, CAP, TITLE, UPPER, CASINGS };

// The casing after one more letter, or CASINGS when the word would be mixed ("orD").
inline uint8_t nextCasing(uint8_t casing, unsigned char c) {
  const bool up = c >= 'A' && c <= 'Z';
  switch (casing) {
    case START: return up ? CAP : LOWER;
    case LOWER: return up ? CASINGS : LOWER;
    case CAP: return up ? UPPER : TITLE;
    case TITLE: return up ? CASINGS : TITLE;
    case UPPER: return up ? UPPER : CASINGS;
    default: return CASINGS;
  }
}
}  // namespace

// Where a sampler is: the trie node of the current word (ROOT between words, OUTSIDE in a word
// not in the lexicon, REJECT for a piece that may not be written) and the word's casing.
struct Position {
  int32_t node = ROOT;
  uint8_t casing = START;
};

struct Spelling;

struct LexiconData {
  std::shared_ptr<llama_model> model;  // keeps the vocabulary the spelling was read from alive
  const llama_vocab* vocab = nullptr;
  std::shared_ptr<Spelling> spelling;  // of that vocabulary
  std::vector<std::array<int32_t, 26>> next;  // trie: child per letter, -1 none; node 0 the root
  std::vector<char> word;                     // node ends a lexicon word
  size_t words = 0;

  void add(const std::string& w) {
    int32_t node = ROOT;
    for (unsigned char c : w) {
      const int k = letter(c);
      if (k < 0) return;  // not a word by the definition above: it can never be written
      if (next[node][k] < 0) {
        next[node][k] = static_cast<int32_t>(next.size());
        next.push_back({});
        next.back().fill(-1);
        word.push_back(0);
      }
      node = next[node][k];
    }
    if (node != ROOT && !word[node]) word[node] = 1, words++;
  }

  bool complete(int32_t node) const { return node <= ROOT || word[node]; }

  // The position after the letter `c` (trie index k); its node is REJECT when the word leaves the
  // lexicon or its casing.
  Position afterLetter(Position at, unsigned char c, int k) const {
    const uint8_t casing = nextCasing(at.casing, c);
    if (at.node < ROOT || next[at.node][k] < 0 || casing == CASINGS) return {REJECT, START};
    return {next[at.node][k], casing};
  }

  // The position after `piece` from `at`; its node is REJECT when the piece leaves the lexicon.
  Position walk(Position at, const std::string& piece) const {
    for (unsigned char c : piece) {
      const int k = letter(c);
      if (k >= 0) {
        at = afterLetter(at, c, k);
        if (at.node == REJECT) return at;
      } else {
        if (!complete(at.node)) return {REJECT, START};
        at = {ROOT, START};
      }
    }
    return at;
  }

  // The position after a token that was chosen anyway (never REJECT).
  Position follow(Position at, const std::string& piece) const {
    for (unsigned char c : piece) {
      const int k = letter(c);
      if (k < 0) {
        at = {ROOT, START};
        continue;
      }
      at = afterLetter(at, c, k);
      if (at.node == REJECT) at = {OUTSIDE, START};
    }
    return at;
  }
};

// One vocabulary's tokens against one lexicon: each token's text (as generate() appends it),
// whether it ends generation, and, per position (trie node and casing), which tokens are allowed
// there, and which as the last token (one that leaves the word complete: a text cut by maxTokens
// does not end inside a word). Bit sets, made the first time a sampler is at that position; shared
// by every sampler and thread.
struct Spelling {
  using Mask = std::vector<uint64_t>;
  std::vector<std::string> pieces;
  std::vector<char> eog;
  // Index (node + 1) * CASINGS + casing (OUTSIDE is -1); the last tokens' after the others'.
  std::unique_ptr<std::atomic<const Mask*>[]> masks;

  Spelling(const llama_vocab* vocab, size_t nodes);
  ~Spelling() {
    for (size_t i = 0; i < 2 * nodes_; i++) delete masks[i].load();
  }
  size_t size() const { return pieces.size(); }

  const Mask& mask(const LexiconData& d, Position at, bool last) {
    std::atomic<const Mask*>& slot = masks[static_cast<size_t>(at.node + 1) * CASINGS + at.casing + (last ? nodes_ : 0)];
    const Mask* m = slot.load(std::memory_order_acquire);
    if (m) return *m;
    const Mask* made = build(d, at, last);
    if (slot.compare_exchange_strong(m, made, std::memory_order_acq_rel)) return *made;
    delete made;  // another thread made it first
    return *m;
  }

 private:
  size_t nodes_;  // slots per kind (positions)

  const Mask* build(const LexiconData& d, Position at, bool last) const {
    auto* m = new Mask((size() + 63) / 64, 0);
    const auto set = [m](size_t t) { (*m)[t / 64] |= uint64_t{1} << (t % 64); };
    bool any = false;
    for (size_t t = 0; t < size(); t++) {
      // A token that writes nothing (a control token) is not allowed: it cannot help spell a word.
      const int32_t after = eog[t] || pieces[t].empty() ? REJECT : d.walk(at, pieces[t]).node;
      const bool ok = eog[t] ? d.complete(at.node) : after != REJECT && (!last || d.complete(after));
      if (ok) set(t), any = true;
    }
    // No last token completes the word: as any other step (the cut cannot be helped).
    if (!any && last) {
      delete m;
      return build(d, at, false);
    }
    // Nothing fits (a word the vocabulary cannot finish): the generation ends rather than
    // sampling from nothing. (A vocabulary without an end token gets an empty mask: unconstrained.)
    if (!any)
      for (size_t t = 0; t < size(); t++)
        if (eog[t]) set(t);
    return m;
  }
};

namespace {
std::string tokenPiece(const llama_vocab* vocab, llama_token t) {
  // As generate.cc's appendText reads it (no lstrip, special tokens rendered empty).
  char buf[128];
  int32_t n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
  if (n >= 0) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(-n), '\0');
  n = llama_token_to_piece(vocab, t, big.data(), static_cast<int32_t>(big.size()), 0, false);
  big.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return big;
}
}  // namespace

Spelling::Spelling(const llama_vocab* vocab, size_t nodes) : masks(new std::atomic<const Mask*>[2 * (nodes + 1) * CASINGS]), nodes_((nodes + 1) * CASINGS) {
  for (size_t i = 0; i < 2 * nodes_; i++) masks[i].store(nullptr);
  const int32_t n = llama_vocab_n_tokens(vocab);
  pieces.resize(static_cast<size_t>(n));
  eog.resize(static_cast<size_t>(n));
  for (llama_token t = 0; t < n; t++) {
    eog[t] = llama_vocab_is_eog(vocab, t) ? 1 : 0;
    pieces[t] = tokenPiece(vocab, t);
  }
}

namespace {
struct LexiconState {
  std::shared_ptr<const LexiconData> data;
  std::shared_ptr<Spelling> spelling;
  int32_t maxTokens = 0;  // the text ends after this many tokens (0: no end known)
  Position at;
  int32_t accepted = 0;  // tokens since reset
};

LexiconState* state(const llama_sampler* s) { return static_cast<LexiconState*>(s->ctx); }

const char* lexName(const llama_sampler*) { return "lexicon"; }

void lexAccept(llama_sampler* s, llama_token t) {
  LexiconState* st = state(s);
  const Spelling& sp = *st->spelling;
  if (t < 0 || static_cast<size_t>(t) >= sp.size() || sp.eog[t]) return;
  st->at = st->data->follow(st->at, sp.pieces[t]);
  st->accepted++;
}

void lexApply(llama_sampler* s, llama_token_data_array* cur) {
  LexiconState* st = state(s);
  const bool last = st->maxTokens > 0 && st->accepted + 1 >= st->maxTokens;
  const Spelling::Mask& m = st->spelling->mask(*st->data, st->at, last);
  bool any = false;
  for (uint64_t w : m) any = any || w != 0;
  if (!any) return;
  const size_t n = st->spelling->size();
  for (size_t i = 0; i < cur->size; i++) {
    const size_t t = static_cast<size_t>(cur->data[i].id);
    if (t >= n || !((m[t / 64] >> (t % 64)) & 1)) cur->data[i].logit = -INFINITY;
  }
}

void lexReset(llama_sampler* s) {
  state(s)->at = Position{};
  state(s)->accepted = 0;
}

llama_sampler* lexClone(const llama_sampler* s);

void lexFree(llama_sampler* s) { delete state(s); }

void lexCopyState(const llama_sampler* src, llama_sampler* dst) {
  state(dst)->at = state(src)->at;
  state(dst)->accepted = state(src)->accepted;
}

llama_sampler_i lexIface() {
  llama_sampler_i i{};
  i.name = lexName;
  i.accept = lexAccept;
  i.apply = lexApply;
  i.reset = lexReset;
  i.clone = lexClone;
  i.free = lexFree;
  i.copy_state = lexCopyState;
  return i;
}

llama_sampler_i LEX_IFACE = lexIface();

llama_sampler* lexClone(const llama_sampler* s) { return llama_sampler_init(&LEX_IFACE, new LexiconState(*state(s))); }
}  // namespace

// The lexicon's spelling when the chain is for its model's vocabulary, else (a lexicon made for
// another model) one read from this vocabulary, for this sampler only.
llama_sampler* makeLexiconSampler(const std::shared_ptr<const LexiconData>& data, const llama_vocab* vocab, int32_t maxTokens) {
  auto sp = data->vocab == vocab ? data->spelling : std::make_shared<Spelling>(vocab, data->next.size());
  return llama_sampler_init(&LEX_IFACE, new LexiconState{data, std::move(sp), maxTokens, Position{}, 0});
}

void Lexicon::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "Lexicon", {InstanceMethod("size", &Lexicon::Size)});
  ctor = Napi::Persistent(f);
  exports.Set("Lexicon", f);
}

// new Lexicon(model, words: string[]): the words (case-insensitive; entries that are not runs of
// ASCII letters are skipped) and the model's token pieces.
Lexicon::Lexicon(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Lexicon>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Model::ctor.Value()) || !info[1].IsArray())
    throw Napi::TypeError::New(env, "new Lexicon(model, words): model must be a Model, words an array of strings");
  Model* m = Model::Unwrap(info[0].As<Napi::Object>());
  auto d = std::make_shared<LexiconData>();
  d->model = m->get(env);
  d->vocab = m->vocab();
  d->next.push_back({});
  d->next.back().fill(-1);
  d->word.push_back(0);
  Napi::Array a = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "new Lexicon(model, words): word " + std::to_string(i) + " is not a string");
    d->add(v.As<Napi::String>().Utf8Value());
  }
  d->spelling = std::make_shared<Spelling>(d->vocab, d->next.size());
  data_ = std::move(d);
}

// size() -> the number of distinct words it holds
Napi::Value Lexicon::Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(data_->words)); }
