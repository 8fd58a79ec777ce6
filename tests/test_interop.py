"""Any lrcore schedule in JAX (optax) and Keras: the values are lrcore's table in the
framework's float type, inside the framework's own optimizers, jitted, serialised.
(``to_keras`` inside Keras's optimizer, serialised, on both backends, runs in
tests/test_keras.py's one process a backend.)"""

import textwrap

import pytest
from fresh import python_json

import lrcore

SPECS = [  # torch's, DeepSpeed's, Megatron's (samples), and a bounded one (no steps needed)
    ("cosine_annealing_warm_restarts(T_0=100, T_mult=2, eta_min=0.001)", 0.1, 1500),
    ("deepspeed_warmup_cosine(total_num_steps=1200, warmup_num_steps=100)", 3e-4, 1500),
    (
        "megatron(max_lr=0.0003, lr_decay_steps=1200, min_lr=3e-05, lr_warmup_steps=100,"
        " lr_decay_style='WSD', wsd_decay_steps=300, lr_wsd_decay_style='minus_sqrt')",
        1.0,
        1500,
    ),
    ("one_cycle(max_lr=0.1, total_steps=1000)", 1.0, None),
]


def _fresh(code, **env):
    return python_json(textwrap.dedent(code), **env)


def test_import_lrcore_imports_no_framework():
    loaded = _fresh(
        """
        import json, sys
        import lrcore
        lrcore.to_optax, lrcore.to_keras
        print(json.dumps([m for m in ("jax", "keras", "torch", "tensorflow") if m in sys.modules]))
        """
    )
    assert loaded == []


def test_optax_schedule_is_the_float32_table_jitted_and_inside_optax():
    # in a fresh process: jax starts threads, and other tests fork
    result = _fresh(
        f"""
        import json
        import jax, jax.numpy as jnp, numpy as np, optax
        import lrcore

        out = []
        for text, base, steps in {SPECS!r}:
            schedule = lrcore.to_optax(text, base, steps=steps)
            n = steps or lrcore.parse(text).last_step() + 1
            expected = lrcore.table(text, n, base, dtype=np.float32)
            values = np.asarray(jax.jit(schedule)(jnp.arange(n + 50)))
            same = bool(np.array_equal(values[:n], expected) and np.all(values[n:] == expected[-1]))
            # inside optax's own machinery: an optimizer's update is -lr(count) * grad
            optimizer = optax.sgd(learning_rate=schedule)
            params = jnp.zeros(())
            state = optimizer.init(params)
            update = jax.jit(optimizer.update)
            seen = []
            for k in range(200):
                updates, state = update(jnp.ones(()), state, params)
                seen.append(float(-updates))
            out.append([str(values.dtype), same, seen == [float(x) for x in expected[:200]]])
        print(json.dumps(out))
        """
    )
    assert result == [["float32", True, True]] * len(SPECS)


def test_optax_schedule_is_the_float64_table_with_x64():
    result = _fresh(
        """
        import json
        import jax, jax.numpy as jnp, numpy as np
        import lrcore
        text = "deepspeed_warmup_cosine(total_num_steps=1200, warmup_num_steps=100)"
        values = np.asarray(jax.jit(lrcore.to_optax(text, 3e-4, steps=1500))(jnp.arange(1500)))
        table = lrcore.table(text, 1500, 3e-4)
        print(json.dumps([str(values.dtype), bool(np.array_equal(values, table))]))
        """,
        JAX_ENABLE_X64="1",
    )
    assert result == ["float64", True]


def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match="to_optax: steps must be the number of steps"):
        lrcore.to_optax("cosine_annealing(T_max=10)")
    with pytest.raises(ValueError, match="to_optax: steps must be an integer >= 1"):
        lrcore.to_optax("cosine_annealing(T_max=10)", steps=0)
    with pytest.raises(TypeError, match="to_optax: spec must be a schedule spec"):
        lrcore.to_optax(3.0)


def test_keras_without_a_backend_it_can_import_says_what_to_set():
    # keras 3 defaults to TensorFlow, which the dev set-up does not install
    result = _fresh(
        """
        import json, os
        os.environ.pop("KERAS_BACKEND", None)
        import lrcore
        try:
            lrcore.to_keras("one_cycle(max_lr=0.1, total_steps=100)")
            print(json.dumps("imported"))
        except ImportError as error:
            print(json.dumps(str(error)))
        """
    )
    if result != "imported":  # (a machine with TensorFlow imports keras as it is)
        assert "set KERAS_BACKEND=torch or KERAS_BACKEND=jax" in result
