"""Any lrcore schedule in another framework: an optax schedule (a function of the
step count that jax can ``jit``) or a Keras ``LearningRateSchedule``.

Both serve a table lrcore computed once, in float64, then rounded to the
framework's float type: float32, or float64 under ``jax_enable_x64`` / Keras's
``floatx``. So a torch schedule, DeepSpeed's, Megatron's or timm's gives the same
values in JAX or Keras as ``lrcore.table(spec, steps, base_lr, dtype=...)``.
Steps past the table hold its last value (a schedule with a last step, such as
``one_cycle``, needs no ``steps``).

jax and keras are imported when these are called, never by ``import lrcore``.
"""

from __future__ import annotations

from .table import tabulate


def to_optax(spec, base_lr: float = 1.0, steps: int | None = None):
    """An optax schedule (``count -> learning rate``) serving ``spec``'s table.

    ``jax.jit`` compiles it (a gather from a constant), ``optax.sgd(learning_rate=...)``
    and every optax optimizer take it. Values: ``lrcore.table(spec, steps, base_lr)``
    in jax's default float type (float32, or float64 with ``jax_enable_x64``); counts
    past ``steps - 1`` give the last entry."""
    import jax.numpy as jnp

    spec, values = tabulate(spec, base_lr, steps, "to_optax")
    held = jnp.asarray(values, dtype=jnp.result_type(float))
    last = len(values) - 1

    def schedule(count):
        return held[jnp.clip(count, 0, last)]

    schedule.spec, schedule.base_lr, schedule.steps = spec, base_lr, len(values)
    schedule.__doc__ = f"lrcore's {spec.brief()} (base LR {base_lr!r}, {len(values)} steps)"
    return schedule


def to_keras(spec, base_lr: float = 1.0, steps: int | None = None):
    """A Keras ``LearningRateSchedule`` serving ``spec``'s table, serialisable with
    ``get_config`` (registered as ``lrcore>TableSchedule``: ``import
    lrcore.keras_schedule`` before loading a saved model in a fresh process)."""
    try:
        from .keras_schedule import TableSchedule
    except ImportError as error:  # keras 3's default backend is TensorFlow
        raise ImportError(
            f"to_keras needs Keras 3 and a backend it can import ({error}); without "
            "TensorFlow, set KERAS_BACKEND=torch or KERAS_BACKEND=jax before keras is imported"
        ) from error
    return TableSchedule(spec, base_lr, steps)
