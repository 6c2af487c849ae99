"""`Backbone`: the base class of the application families' functional backbones."""

from deepedge.backend import keras


class Backbone(keras.Model):
    """A functional model whose config is exactly its constructor's arguments.

    A subclass builds its layers in `__init__`, calls `super().__init__(inputs=..., outputs=...)`
    and returns its constructor's arguments (other than `name` and `trainable`) from
    `_constructor_config()`; it registers itself with
    `@keras.saving.register_keras_serializable(package="deepedge")`, so that a saved model
    names the subclass (the base class itself is never saved).
    """

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._constructor_config()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
