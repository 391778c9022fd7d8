"""A small randomly initialised stand-in for the XrayGPT checkout, for testing the converter.

Written for this project (no XrayGPT code): it mirrors only the module names and the
interfaces the converter uses (Config, registry, MiniGPT4.from_config, encode_img,
llama_model, llama_tokenizer, the eval image processor).
"""
