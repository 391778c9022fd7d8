from xraygpt.processors import blip_processors  # noqa: F401 (registers the processors)
