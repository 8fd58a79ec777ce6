"""Parameter sets for every family, shared by the parity and accuracy tests."""

import lrcore


def _lam_pow(epoch):
    return 0.95**epoch


def _lam_piecewise(epoch):
    # the lecture's piecewise 0.5**k with breaks at 40, 70, 90
    return 0.5 ** sum(epoch >= b for b in (40, 70, 90))


def _mult_wobble(epoch):
    return 0.999 if epoch % 3 else 1.001


RELATIVE = [  # specs relative to base_lr
    "step(step_size=7, gamma=0.7)",
    "step(step_size=100, gamma=0.5)",
    "multi_step(milestones=[3, 3, 10, 50, 2000], gamma=0.5)",
    "multi_step(milestones=[200, 350], gamma=0.5)",
    "constant(factor=0.3, total_iters=17)",
    "constant(factor=1.0, total_iters=0)",
    "linear(start_factor=0.05, end_factor=0.9, total_iters=333)",
    "linear(start_factor=1.0, end_factor=0.0, total_iters=5000)",
    "exponential(gamma=0.999)",
    "exponential(gamma=0.5)",
    "polynomial(total_iters=500, power=2.5)",
    "polynomial(total_iters=9000, power=1.0)",
    "cosine_annealing(T_max=37, eta_min=0.01)",
    "cosine_annealing(T_max=100, eta_min=0.001)",
    "cosine_annealing(T_max=4000)",
    "cosine_annealing_warm_restarts(T_0=7, T_mult=2, eta_min=0.001)",
    "cosine_annealing_warm_restarts(T_0=50, T_mult=2, eta_min=0.001)",
    "cosine_annealing_warm_restarts(T_0=10)",
    "cosine_annealing_warm_restarts(T_0=3, T_mult=3, eta_min=0.0001)",
    "sequential([linear(start_factor=0.1, total_iters=100), cosine_annealing(T_max=900)],"
    " milestones=[100])",
    "sequential([constant(factor=0.5, total_iters=10), exponential(gamma=0.99),"
    " step(step_size=30)], milestones=[20, 300])",
    "sequential([exponential(gamma=0.99), cosine_annealing_warm_restarts(T_0=30, T_mult=2),"
    " polynomial(total_iters=100, power=2.0)], milestones=[50, 2000])",
    "chained([constant(factor=0.5, total_iters=10), exponential(gamma=0.99)])",
    "chained([cosine_annealing(T_max=100, eta_min=0.1), linear(start_factor=0.2, total_iters=50)])",
    # without eta_min a chain is a product of factors, closed numerics included
    "chained([cosine_annealing(T_max=100), linear(start_factor=0.2, total_iters=50)])",
    "chained([step(step_size=20, gamma=0.9), cosine_annealing_warm_restarts(T_0=25),"
    " multi_step(milestones=[40, 90])])",
]

PEERS = [  # schedules torch has no class for (transformers', WSD), relative to base_lr
    "warmup(cosine_annealing(T_max=900), warmup_steps=100)",
    "warmup(linear_decay(decay_steps=4000), warmup_steps=250, warmup_type='cosine')",
    "warmup(cosine_decay(decay_steps=5000, num_cycles=1.5, min_lr_rate=0.1), warmup_steps=50)",
    "warmup(inverse_sqrt(timescale=400), warmup_steps=400, warmup_type='1-sqrt')",
    "warmup(polynomial_decay(decay_steps=3000, lr_init=1.0, lr_end=0.01, power=2.0),"
    " warmup_steps=10)",
    "cosine_hard_restarts(decay_steps=6000, num_cycles=3)",
    "wsd(warmup_steps=300, stable_steps=2000, decay_steps=1000, decay_type='1-sqrt',"
    " min_lr_ratio=0.1)",
    "wsd(warmup_steps=0, stable_steps=100, decay_steps=1000, warmup_type='cosine')",
    "timm_cosine(t_initial=300, lr_min=1e-05, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=6,"
    " warmup_t=20, warmup_lr_init=1e-04, k_decay=1.2, noise_range_t=[100, 900])",
    "timm_tanh(t_initial=500, cycle_mul=2.0, cycle_limit=5, warmup_t=40, warmup_prefix=True)",
    "timm_poly(t_initial=2000, power=2.0, lr_min=1e-06, cycle_limit=3, noise_range_t=500,"
    " noise_pct=0.1)",
]

ABSOLUTE = [  # specs holding their own learning rates
    "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, step_size_down=100)",
    "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode='triangular2')",
    "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode='exp_range', gamma=0.995)",
    "cyclic(base_lr=0.01, max_lr=0.3, step_size_up=7, step_size_down=3)",
    "one_cycle(max_lr=0.1, total_steps=12000)",
    "one_cycle(max_lr=0.1, total_steps=12000, three_phase=True, anneal_strategy='linear')",
    "one_cycle(max_lr=0.5, epochs=30, steps_per_epoch=400, pct_start=0.25, div_factor=10.0,"
    " final_div_factor=100.0, three_phase=True)",
]

FRAMEWORKS = (
    [  # other frameworks' schedules (DeepSpeed, Megatron-Core, optax, Keras, fairseq)
        "deepspeed_warmup(warmup_min_lr=1e-05, warmup_max_lr=0.01, warmup_num_steps=500)",
        "deepspeed_warmup(warmup_max_lr=0.003, warmup_num_steps=1, warmup_type='linear')",
        "deepspeed_warmup_decay(total_num_steps=8000, warmup_min_lr=1e-06, warmup_max_lr=0.02,"
        " warmup_num_steps=777, warmup_type='linear')",
        "deepspeed_warmup_decay(total_num_steps=5000, warmup_max_lr=0.02, warmup_num_steps=300)",
        "deepspeed_warmup_cosine(total_num_steps=9000, warmup_min_ratio=0.1, warmup_num_steps=333,"
        " cos_min_ratio=0.01)",
        "deepspeed_warmup_cosine(total_num_steps=4000, warmup_num_steps=100, warmup_type='linear')",
        "deepspeed_one_cycle(cycle_min_lr=0.0001, cycle_max_lr=0.01, cycle_first_step_size=1000,"
        " cycle_second_step_size=1500, decay_lr_rate=0.5, decay_step_size=100, decay_mom_rate=0.1)",
        "deepspeed_one_cycle(cycle_min_lr=0.0001, cycle_max_lr=0.01, cycle_first_step_size=700,"
        " cycle_first_stair_count=7, cycle_second_stair_count=3, decay_step_size=50,"
        " decay_lr_rate=0.01)",
        "deepspeed_lr_range_test(lr_range_test_min_lr=1e-05, lr_range_test_step_size=100,"
        " lr_range_test_step_rate=0.5)",
        "deepspeed_lr_range_test(lr_range_test_min_lr=1e-05, lr_range_test_step_size=300,"
        " lr_range_test_step_rate=2.0, lr_range_test_staircase=True)",
        "megatron(max_lr=0.0003, lr_decay_steps=10000, init_lr=1e-06, min_lr=3e-05,"
        " lr_warmup_steps=500, lr_decay_style='cosine')",
        "megatron(max_lr=0.001, lr_decay_steps=9000, lr_warmup_steps=700, start_wd=0.0, end_wd=0.1,"
        " wd_incr_style='cosine')",
        "megatron(max_lr=0.001, lr_decay_steps=11000, min_lr=1e-05, lr_warmup_steps=1000,"
        " lr_decay_style='inverse-square-root', start_wd=0.01, end_wd=0.05, wd_incr_steps=6000,"
        " wd_incr_style='linear')",
        "megatron(max_lr=0.0002, lr_decay_steps=8000, lr_warmup_steps=100,"
        " lr_decay_style='constant')",
        "megatron(max_lr=0.0006, lr_decay_steps=10000, min_lr=6e-05, lr_warmup_steps=300,"
        " lr_decay_style='WSD', wsd_decay_steps=2000, lr_wsd_decay_style='exponential')",
        "megatron(max_lr=0.0006, lr_decay_steps=10000, lr_decay_style='WSD', wsd_decay_steps=3000,"
        " lr_wsd_decay_style='minus_sqrt')",
        "megatron(max_lr=0.0006, lr_decay_steps=10000, min_lr=1e-05, lr_warmup_steps=10,"
        " lr_decay_style='WSD', wsd_decay_steps=5000, lr_wsd_decay_style='cosine')",
        "megatron(max_lr=0.0006, lr_decay_steps=10000, lr_warmup_steps=10, lr_decay_style='WSD',"
        " wsd_decay_steps=10000, lr_wsd_decay_style='linear')",
    ]
    + [  # optax's (tests/test_optax.py builds the same schedules with optax itself)
        "optax_constant(value=0.01)",
        "optax_linear(init_value=0.1, end_value=0.001, transition_steps=1000, transition_begin=50)",
        "optax_polynomial(init_value=0.1, end_value=0.001, power=2.5, transition_steps=1000,"
        " transition_begin=10)",
        "optax_polynomial(init_value=0.1, end_value=0.001, power=3, transition_steps=1000)",
        "optax_exponential_decay(init_value=0.1, transition_steps=100, decay_rate=0.5,"
        " transition_begin=20, staircase=True, end_value=0.01)",
        "optax_exponential_decay(init_value=0.1, transition_steps=300, decay_rate=0.7)",
        "optax_cosine_decay(init_value=0.1, decay_steps=1000, alpha=0.01, exponent=2.0)",
        "optax_cosine_decay(init_value=0.1, decay_steps=1000, exponent=3)",
        "optax_piecewise_constant(init_value=0.1, boundaries_and_scales={300: 0.5, 100: 0.3,"
        " 700: 0.1})",
        "optax_piecewise_interpolate(interpolate_type='cosine', init_value=0.1,"
        " boundaries_and_scales={300: 0.5, 100: 3.0, 700: 0.1})",
        "optax_piecewise_interpolate(interpolate_type='linear', init_value=0.1,"
        " boundaries_and_scales={200: 2.0, 900: 0.01})",
        "optax_linear_onecycle(transition_steps=1000, peak_value=0.1)",
        "optax_cosine_onecycle(transition_steps=1000, peak_value=0.1, pct_start=0.25,"
        " div_factor=10.0, final_div_factor=100.0)",
        "optax_warmup_constant(init_value=0.0, peak_value=0.1, warmup_steps=100)",
        "optax_warmup_cosine_decay(init_value=0.0, peak_value=0.1, warmup_steps=100,"
        " decay_steps=1000, end_value=0.001)",
        "optax_warmup_exponential_decay(init_value=0.0, peak_value=0.1, warmup_steps=100,"
        " transition_steps=200, decay_rate=0.5, transition_begin=50, end_value=0.001)",
        "optax_sgdr(cosine_kwargs=[optax_warmup_cosine_decay(init_value=0.0, peak_value=0.1,"
        " warmup_steps=50, decay_steps=300), optax_warmup_cosine_decay(init_value=0.01,"
        " peak_value=0.05, warmup_steps=20, decay_steps=500, end_value=0.001)])",
        "optax_join(schedules=[optax_linear(init_value=0.0, end_value=0.1, transition_steps=100),"
        " optax_constant(value=0.1), optax_exponential_decay(init_value=0.1, transition_steps=100,"
        " decay_rate=0.9)], boundaries=[100, 400])",
    ]
    + [  # Keras's (tests/test_keras.py builds them with Keras, in float32 and float64)
        "keras_exponential_decay(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.5)",
        "keras_exponential_decay(initial_learning_rate=0.1, decay_steps=300, decay_rate=0.7,"
        " staircase=True)",
        "keras_inverse_time_decay(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5)",
        "keras_inverse_time_decay(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5,"
        " staircase=True)",
        "keras_polynomial_decay(initial_learning_rate=0.1, decay_steps=3000,"
        " end_learning_rate=0.001, power=2.0)",
        "keras_polynomial_decay(initial_learning_rate=0.1, decay_steps=700,"
        " end_learning_rate=0.001, power=0.5, cycle=True)",
        "keras_piecewise_constant_decay(boundaries=[100, 2000, 3000], values=[0.1, 0.05, 0.01,"
        " 0.001])",
        "keras_cosine_decay(initial_learning_rate=0.1, decay_steps=4000, alpha=0.01)",
        "keras_cosine_decay(initial_learning_rate=0.0, decay_steps=3000, warmup_target=0.1,"
        " warmup_steps=500)",
        "keras_cosine_decay_restarts(initial_learning_rate=0.1, first_decay_steps=300, m_mul=0.8,"
        " alpha=0.01)",
        "keras_cosine_decay_restarts(initial_learning_rate=0.1, first_decay_steps=500, t_mul=1.0)",
        "keras_cosine_decay_restarts(initial_learning_rate=0.1, first_decay_steps=100, t_mul=3.0,"
        " m_mul=0.5)",
        "fairseq_inverse_sqrt(lr=0.0005, warmup_updates=4000)",
        "fairseq_inverse_sqrt(lr=0.0007, warmup_updates=1000, warmup_init_lr=1e-07)",
        "fairseq_step(lr=0.001, warmup_updates=500, min_lr=1e-05, lr_deacy_period=1500,"
        " lr_decay=0.7)",
        "fairseq_step(lr=0.001, lr_deacy_period=2000)",
        "fairseq_cosine(lr=0.001, warmup_updates=500, max_update=12000)",
        "fairseq_cosine(lr=0.001, warmup_updates=100, min_lr=1e-06, t_mult=2.0,"
        " lr_period_updates=2000, lr_shrink=0.5)",
        "fairseq_cosine(lr=0.001, min_lr=1e-05, t_mult=1.5, lr_period_updates=3000.0)",
        "fairseq_cosine(lr=0.001, warmup_updates=100, warmup_init_lr=1e-07, min_lr=1e-05,"
        " t_mult=0.9, lr_period_updates=10000, lr_shrink=1.0)",
        "fairseq_cosine(lr=0.001, t_mult=3.0, lr_period_updates=10, lr_shrink=1.0)",
        "fairseq_polynomial_decay(lr=0.001, total_num_update=10000, warmup_updates=1000,"
        " end_learning_rate=1e-06, power=2.0)",
        "fairseq_polynomial_decay(lr=0.0003, total_num_update=9000, power=0.5)",
        "fairseq_tri_stage(lr=0.001, warmup_steps=1000, hold_steps=3000, decay_steps=5000)",
        "fairseq_tri_stage(lr=0.002, phase_ratio=[0.1, 0.4, 0.5], init_lr_scale=0.05,"
        " final_lr_scale=0.02, max_update=11000)",
        "fairseq_triangular(lr=0.0001, max_lr=0.001, lr_period_updates=3000)",
        "fairseq_triangular(lr=0.0001, max_lr=0.001, lr_period_updates=2501, lr_shrink=0.5,"
        " shrink_min=True)",
        "fairseq_fixed(lr=0.001, warmup_updates=700)",
        "fairseq_fixed(lr=[0.001, 0.0005, 0.0002], force_anneal=5, lr_shrink=0.5,"
        " warmup_updates=300, updates_per_epoch=1000)",
    ]
)

FUNCTIONS = [
    lrcore.Lambda(_lam_pow),
    lrcore.Lambda(_lam_piecewise),
    lrcore.Multiplicative(_mult_wobble),
    lrcore.Sequential([lrcore.Linear(0.1, 1.0, 10), lrcore.Lambda(_lam_pow)], [10]),
    lrcore.Sequential([lrcore.Exponential(0.99), lrcore.Multiplicative(_mult_wobble)], [25]),
    lrcore.Chained([lrcore.Multiplicative(_mult_wobble), lrcore.Step(30, 0.5)]),
]


def all_specs():
    return [lrcore.parse(s) for s in RELATIVE + ABSOLUTE] + FUNCTIONS
