"""The base of models that own sub-models (GAN, VAE)."""

import keras


class Composite:
    """Mixin for models that own sub-models (GAN, VAE), the keras-hub way: `get_config`
    serializes the parts named in `PARTS` and `from_config` rebuilds them."""

    PARTS = ()

    def get_config(self):
        return {**super().get_config(),
                **{p: keras.saving.serialize_keras_object(getattr(self, p)) for p in self.PARTS}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for part in cls.PARTS:
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)
