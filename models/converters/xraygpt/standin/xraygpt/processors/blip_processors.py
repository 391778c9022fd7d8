"""The eval image processor: resize, to tensor, normalize with CLIP mean/std."""
from torchvision import transforms

from xraygpt.common.registry import registry

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@registry.register_processor("blip2_image_eval")
class Blip2ImageEvalProcessor:
    def __init__(self, image_size=224, mean=None, std=None):
        self.normalize = transforms.Normalize(mean or CLIP_MEAN, std or CLIP_STD)
        self.transform = transforms.Compose([
            transforms.Resize((image_size, image_size), interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.ToTensor(),
            self.normalize,
        ])

    def __call__(self, item):
        return self.transform(item)

    @classmethod
    def from_config(cls, cfg):
        return cls(image_size=cfg.get("image_size", 224), mean=cfg.get("mean"), std=cfg.get("std"))
