"""Keras 3's schedules against Keras itself (installed by the dev set-up), on its jax
and torch backends, in float32 and float64, called one step at a time as Keras's
optimizers call them. Each run is a fresh process (the backend and float type are
chosen at import). The steps are sampled (every 194th up to 6,000, 31 steps): a Keras
call costs up to 20 ms eagerly on the jax backend.

What is equal, measured here and asserted: bit for bit wherever both sides call the
same functions. Where a backend computes ``cos``, ``log`` or ``pow`` with code of its
own, the distance is measured and bounded (not hidden):
* jax, float32: the cycle index of ``CosineDecayRestarts`` with ``t_mul=3`` takes
  XLA's float32 ``log``, not libm's ``logf``;
* torch, float32: torch's float32 ``cos`` is its own, so the cosine schedules move
  by a few ULPs at a few steps (more near the bottom of a cycle, where ``1 + cos``
  cancels);
* torch, float64: ``CosineDecayRestarts`` with ``t_mul=2`` takes torch's ``log``;
* jax, float64 (``jax_enable_x64``): the cosine schedules come out at float32
  precision from Keras on jax, whose values lrcore does not reproduce.
"""

import dataclasses
import json
import textwrap

import pytest
from catalogue import FRAMEWORKS
from fresh import python_jsons

import lrcore
from lrcore.convert import to_framework

SPECS = [s for s in FRAMEWORKS if s.startswith("keras_")]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import lrcore

    CLASSES = {
        "keras_exponential_decay": "ExponentialDecay",
        "keras_inverse_time_decay": "InverseTimeDecay",
        "keras_polynomial_decay": "PolynomialDecay",
        "keras_piecewise_constant_decay": "PiecewiseConstantDecay",
        "keras_cosine_decay": "CosineDecay",
        "keras_cosine_decay_restarts": "CosineDecayRestarts",
    }
    steps = list(range(0, 6000, 194))
    results = {}
    for floatx in sys.argv[1].split(","):  # one process a backend: floatx is set per run
        keras.config.set_floatx(floatx)
        out = results[floatx] = []
        for text in json.loads(sys.argv[2]):
            spec = lrcore.parse(text)
            arguments = {k: v for k, v in spec.to_dict().items() if k not in ("name", "dtype")}
            if isinstance(arguments.get("values"), list):
                arguments["boundaries"] = list(arguments["boundaries"])
            schedule = getattr(keras.optimizers.schedules, CLASSES[spec.name])(**arguments)
            theirs = np.array([float(schedule(t)) for t in steps])
            ours = lrcore.table(spec.__class__(**{**arguments, "dtype": floatx}), 6000)[steps]
            ints = np.int32 if floatx == "float32" else np.int64
            dtype = np.float32 if floatx == "float32" else np.float64
            ulps = np.abs(
                ours.astype(dtype).view(ints).astype(np.int64)
                - theirs.astype(dtype).view(ints).astype(np.int64)
            )
            out.append([int((ulps > 0).sum()), int(ulps.max())])
    # lrcore convert --to keras's code builds the same schedule (the same config)
    same = []
    for text, exported in zip(json.loads(sys.argv[2]), json.loads(sys.argv[3])):
        spec = lrcore.parse(text)
        arguments = {k: v for k, v in spec.to_dict().items() if k not in ("name", "dtype")}
        for key in ("boundaries", "values"):
            if key in arguments:
                arguments[key] = list(arguments[key])
        namespace = {}
        exec(exported, namespace)
        reference = getattr(keras.optimizers.schedules, CLASSES[spec.name])(**arguments)
        same.append(namespace["schedule"].get_config() == reference.get_config())
    results["exported"] = same
    nearest = []  # convert --to keras's nearest expressions, run as they are (float32)
    keras.config.set_floatx("float32")
    for code, steps in json.loads(sys.argv[4]):
        namespace = {}
        exec(code, namespace)
        nearest.append([float(namespace["schedule"](t)) for t in range(0, steps, 7)])
    results["nearest"] = nearest
    import inspect  # each class's parameters without defaults, in order
    results["required"] = {
        name: [p.name for p in inspect.signature(getattr(keras.optimizers.schedules, name))
               .parameters.values() if p.default is p.empty]
        for name in CLASSES.values()
    }
    print(json.dumps(results))
    """
)

#: (backend, float type) -> {spec index: (the largest ULP distance, of how many sampled
#: steps)} as measured on this machine over every 97th step (62 steps, a superset of the
#: sample): upper bounds; every other schedule is exact
BOUNDS = {
    ("jax", "float32"): {11: (256, 8)},
    ("torch", "float32"): {7: (64, 8), 8: (64, 8), 9: (256, 8), 10: (256, 8), 11: (256, 8)},
    ("torch", "float64"): {9: (4, 20)},
}


#: lrcore.to_keras inside Keras: its values, serialised and rebuilt, in Keras's optimizer
TO_KERAS = textwrap.dedent(
    """
    import json
    import numpy as np
    import keras
    import lrcore

    text = "megatron(max_lr=0.0003, lr_decay_steps=1200, min_lr=3e-05, lr_warmup_steps=100)"
    schedule = lrcore.to_keras(text, steps=1500)
    expected = lrcore.table(text, 1500, dtype=np.float32)
    values = [float(schedule(step)) for step in range(0, 1600, 7)]
    same = values == [float(expected[min(s, 1499)]) for s in range(0, 1600, 7)]
    # serialised and rebuilt (as a saved model's optimizer is)
    config = keras.optimizers.schedules.serialize(schedule)
    again = keras.optimizers.schedules.deserialize(json.loads(json.dumps(config)))
    rebuilt = [float(again(s)) for s in range(0, 1500, 97)]
    same_again = rebuilt == [float(expected[s]) for s in range(0, 1500, 97)]
    # Keras's optimizer reads it at its iteration count
    variable = keras.Variable(np.zeros(3, dtype="float32"))
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    seen = []
    for _ in range(150):
        seen.append(float(optimizer.learning_rate))
        optimizer.apply_gradients([(keras.ops.ones(3), variable)])
    in_optimizer = seen == [float(x) for x in expected[:150]]
    print(json.dumps([same, same_again, in_optimizer, config["registered_name"]]))
    """
)


#: schedules Keras has no equal of, and the steps their nearest expressions are fitted over
NEAREST = [
    ("optax_warmup_cosine_decay(init_value=0.0, peak_value=0.01, warmup_steps=20, "
     "decay_steps=300)", 300),
    ("timm_step(decay_t=40, decay_rate=0.5, warmup_t=5)", 200),
]  # fmt: skip


def _jax_cache(folder):
    """jax's compilation cache in an empty folder of this run. On the jax backend a
    schedule with a ``cond`` (Keras's warm-up) compiles its branches anew at each eager
    call: about 170 XLA compilations of 56 distinct programs, and the backend's run took
    18 s. From the cache each repeat loads the executable its program compiled to (the
    same machine code, so the same values): 8 s."""
    return {
        "JAX_COMPILATION_CACHE_DIR": str(folder / "jax_cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


@pytest.fixture(scope="module")
def kerass_values(tmp_path_factory):
    """{(backend, float type): Keras's ULP distances}, and what ``lrcore.to_keras`` gives
    inside Keras, one process a backend."""
    out = {}
    for backend in sorted({b for b, _ in BOUNDS}):
        floats = [f for b, f in BOUNDS if b == backend]
        exported = [to_framework(s, "keras").artifact for s in SPECS]
        nearest = [[to_framework(s, "keras", steps=n).artifact, n] for s, n in NEAREST]
        args = [",".join(floats), json.dumps(SPECS), json.dumps(exported), json.dumps(nearest)]
        jobs = [(TO_KERAS, []), (SCRIPT, args)]  # (SCRIPT sets Keras's float type: last)
        folder = tmp_path_factory.mktemp(backend)
        to_keras, got = python_jsons(jobs, folder, KERAS_BACKEND=backend, **_jax_cache(folder))
        out[(backend, "to_keras")] = to_keras
        out[(backend, "nearest")] = got["nearest"]
        out.update({(backend, f): got[f] for f in floats})
        out[(backend, "exported")] = got["exported"]
        out["required"] = got["required"]
    return out


def test_convert_to_keras_builds_the_schedules_measured_here(kerass_values):
    """``lrcore convert --to keras``'s code builds, on each backend, a schedule with the
    configuration of the one measured against lrcore above."""
    for backend in {b for b, _ in BOUNDS}:
        assert kerass_values[(backend, "exported")] == [True] * len(SPECS)
    # and lrcore convert reads Keras's calls with positional arguments in Keras's order
    from lrcore.convert import _required, from_call
    from lrcore.family import names

    assert {n: _required(c) for n, c in names("keras").items()} == kerass_values["required"]
    for text in SPECS:
        spec = lrcore.parse(text)
        call = to_framework(spec, "keras").artifact.split("schedule = ", 1)[1]
        assert from_call(call, "keras") == spec


def test_nearest_expressions_run_in_keras_within_what_they_state(kerass_values):
    from lrcore.nearest import relative_difference

    for backend in {b for b, _ in BOUNDS}:
        for (text, n), got in zip(NEAREST, kerass_values[(backend, "nearest")]):
            stated = to_framework(text, "keras", steps=n).max_rel_diff
            want = lrcore.table(lrcore.parse(text), n)[::7]
            # float32 (Keras's floatx): the stated difference plus float32's rounding
            assert relative_difference(got, want) <= stated + 2.0**-22, (backend, text)


@pytest.mark.parametrize("backend,floatx", list(BOUNDS), ids=lambda x: str(x))
def test_keras_schedules_are_kerass_values(backend, floatx, kerass_values):
    assert len(SPECS) == 12
    results = kerass_values[(backend, floatx)]
    bounds = BOUNDS[(backend, floatx)]
    for k, (text, (differing, worst)) in enumerate(zip(SPECS, results)):
        ulps, steps = bounds.get(k, (0, 0))
        assert worst <= ulps and differing <= steps, (text, differing, worst)
    exact = sum(1 for differing, _ in results if differing == 0)
    assert exact >= len(SPECS) - len(bounds)


def test_float32_tables_hold_float32_values_and_float64_ones_differ():
    spec = lrcore.parse(SPECS[7])  # the cosine decay
    single = lrcore.table(spec, 4000)
    double = lrcore.table(dataclasses.replace(spec, dtype="float64"), 4000)
    assert (single.astype("float32").astype("float64") == single).all()
    assert (single != double).sum() > 3000
    assert abs(single - double).max() < 1e-7  # float32 rounding of values near 0.1


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_keras_schedule_in_kerass_optimizer_and_serialised(backend, kerass_values):
    """``lrcore.to_keras``: the float32 table in Keras, serialised and rebuilt (as a saved
    model's optimizer is), read by Keras's own optimizer at its iteration count."""
    assert kerass_values[(backend, "to_keras")] == [True, True, True, "lrcore>TableSchedule"]
