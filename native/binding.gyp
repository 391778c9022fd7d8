{
  "targets": [
    {
      "target_name": "llama_embed",
      "sources": ["src/addon.cc", "src/model.cc", "src/context.cc", "src/sampler.cc", "src/lexicon.cc", "src/generate.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node scripts/llama-paths.cjs includeDirs)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "libraries": ["<!@(node scripts/llama-paths.cjs libraries)", "-Wl,-rpath,'$$ORIGIN/<!(node scripts/llama-paths.cjs libDirFromAddon)'", "-Wl,-rpath,<!(node scripts/llama-paths.cjs libDir)", "-ldl"]
    }
  ]
}
