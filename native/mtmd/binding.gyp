{
  "targets": [
    {
      "target_name": "llama_mtmd",
      "sources": ["../src/mtmd.cc", "<!@(node ../scripts/llama-paths.cjs mtmdSources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node ../scripts/llama-paths.cjs mtmdIncludeDirs)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags": ["-O2", "-w"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-w"],
      "libraries": ["<!@(node ../scripts/llama-paths.cjs libraries)", "-Wl,-rpath,'$$ORIGIN/<!(node ../scripts/llama-paths.cjs libDirFromMtmdAddon)'", "-Wl,-rpath,<!(node ../scripts/llama-paths.cjs libDir)", "-ldl", "-lpthread"]
    }
  ]
}
