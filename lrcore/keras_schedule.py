"""lrcore's Keras ``LearningRateSchedule`` (imports keras; ``lrcore.to_keras`` makes one).

Registered with Keras as ``lrcore>TableSchedule``, so a model saved with it loads
again once this module is imported.
"""

from __future__ import annotations

import keras

from .spec import from_dict
from .table import tabulate


@keras.saving.register_keras_serializable(package="lrcore")
class TableSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """An lrcore spec's table as a Keras schedule: ``schedule(step)`` is entry
    ``step`` (the last entry past the end) in Keras's float type."""

    def __init__(self, spec, base_lr=1.0, steps=None, name="TableSchedule"):
        super().__init__()
        if isinstance(spec, dict):
            spec = from_dict(spec)
        self.spec, values = tabulate(spec, base_lr, steps, "to_keras")
        self.base_lr, self.steps, self.name = base_lr, steps, name
        self._last = len(values) - 1
        self._values = keras.ops.convert_to_tensor(values, dtype=keras.config.floatx())

    def __call__(self, step):
        index = keras.ops.clip(keras.ops.cast(step, "int32"), 0, self._last)
        return keras.ops.take(self._values, index)

    def get_config(self):
        return {
            "spec": self.spec.to_dict(),
            "base_lr": self.base_lr,
            "steps": self.steps,
            "name": self.name,
        }
