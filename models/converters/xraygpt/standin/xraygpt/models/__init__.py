from xraygpt.models import mini_gpt4  # noqa: F401 (registers "mini_gpt4")
