"""Name → class registry, as `xraygpt.common.registry.registry`."""


class Registry:
    def __init__(self):
        self.models = {}
        self.processors = {}

    def register_model(self, name):
        def wrap(cls):
            self.models[name] = cls
            return cls
        return wrap

    def register_processor(self, name):
        def wrap(cls):
            self.processors[name] = cls
            return cls
        return wrap

    def get_model_class(self, name):
        return self.models.get(name)

    def get_processor_class(self, name):
        return self.processors.get(name)


registry = Registry()
