"""`Config(args)`: reads args.cfg_path (YAML); `args.options` ("a.b=value") override keys."""
import yaml


class Node(dict):
    """A dict with attribute access, like the OmegaConf nodes of the real configs."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(key) from e

    def __setattr__(self, key, value):
        self[key] = value


def to_node(v):
    if isinstance(v, dict):
        return Node({k: to_node(x) for k, x in v.items()})
    return v


class Config:
    def __init__(self, args):
        with open(args.cfg_path) as f:
            cfg = to_node(yaml.safe_load(f))
        for opt in getattr(args, "options", None) or []:
            key, value = opt.split("=", 1)
            node = cfg
            *path, last = key.split(".")
            for p in path:
                node = node[p]
            node[last] = yaml.safe_load(value)
        self.config = cfg

    @property
    def model_cfg(self):
        return self.config.model

    @property
    def datasets_cfg(self):
        return self.config.datasets
