"""matgrad.amp.GradScaler against torch.amp.GradScaler("cpu"), step for step: the same model and
gradients give the same parameters, scale, growth tracker and state_dict, through a step with an
inf gradient (skipped, scale backed off) and growth after growth_interval clean steps. Also its
errors, the disabled pass-through, scale() on nested outputs, state_dict/pickle round trips, the
deprecated matgrad.cuda.amp spelling, and the scaler on the CuPy-like test device."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn, optim
from matgrad.amp import GradScaler


def _params(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]


def _loss_mg(params: list, x: np.ndarray, y: np.ndarray):
    return ((nn.functional.linear(mg.tensor(x), params[0], params[1]) - mg.tensor(y)) ** 2).mean()


def _loss_torch(torch, params: list, x: np.ndarray, y: np.ndarray):
    return ((torch.nn.functional.linear(torch.tensor(x), params[0], params[1]) - torch.tensor(y)) ** 2).mean()


INF_STEPS = {2: np.inf, 5: np.nan}  # the steps whose gradient gets an inf or a nan (they are skipped)


def test_steps_match_torch_with_skips_and_growth():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    init = _params(rng)
    pm = [mg.tensor(a, requires_grad=True) for a in init]
    pt = [torch.tensor(a, requires_grad=True) for a in init]
    om = optim.SGD(pm, lr=0.01, momentum=0.9)
    ot = torch.optim.SGD(pt, lr=0.01, momentum=0.9)
    kw = dict(init_scale=2.0**10, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    sm, st = GradScaler("cpu", **kw), torch.amp.GradScaler("cpu", **kw)
    assert sm._scale is None and sm.get_scale() == st.get_scale() == 2.0**10  # lazily made, as torch's
    scales = []
    for step in range(10):
        x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 3)).astype(np.float32)
        om.zero_grad()
        ot.zero_grad()
        lm, lt = sm.scale(_loss_mg(pm, x, y)), st.scale(_loss_torch(torch, pt, x, y))
        assert lm.dtype == mg.float32 and sm._scale.dtype == mg.float32 and sm._growth_tracker.dtype == mg.int32
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5, atol=1e-6)
        lm.backward()
        lt.backward()
        if step in INF_STEPS:
            pm[0].grad.array[1, 2] = INF_STEPS[step]
            with torch.no_grad():
                pt[0].grad[1, 2] = INF_STEPS[step]
        if step % 2:  # unscale_ by hand half the time (to clip, say), as step() would
            sm.unscale_(om)
            st.unscale_(ot)
        sm.step(om)
        st.step(ot)
        found = sm._found_inf_per_device(om)
        assert [float(v.item()) for v in found.values()] == [1.0 if step in INF_STEPS else 0.0]
        sm.update()
        st.update()
        scales.append(sm.get_scale())
        assert sm.get_scale() == st.get_scale()
        assert sm._get_growth_tracker() == st._get_growth_tracker()
        assert sm.state_dict() == st.state_dict()
        for a, b in zip(pm, pt):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
            assert np.isfinite(a.detach().numpy()).all()  # a skipped step leaves the parameters as they were
    # backed off at the inf (step 2) and the nan (step 5), grown after 3 clean steps (4: no, 8: yes)
    assert scales == [1024.0, 1024.0, 512.0, 512.0, 512.0, 256.0, 256.0, 256.0, 512.0, 512.0]


def test_skipped_step_leaves_parameters_and_optimizer_state():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    scaler = GradScaler("cpu", init_scale=4.0)
    scaler.scale((p * 3).sum()).backward()
    p.grad.array[0] = np.inf
    assert scaler.step(opt) is None
    scaler.update()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])
    assert len(opt.state) == 0 and scaler.get_scale() == 2.0 and scaler._get_growth_tracker() == 0


def test_unscale_divides_by_the_scale_in_place():
    p = mg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scaler = GradScaler("cpu", init_scale=8.0)
    scaler.scale((p * mg.tensor([3.0, 5.0])).sum()).backward()
    grad = p.grad
    np.testing.assert_array_equal(grad.numpy(), [24.0, 40.0])
    scaler.unscale_(opt)
    assert p.grad is grad  # in place, as torch's
    np.testing.assert_array_equal(grad.numpy(), [3.0, 5.0])
    # float64 gradients are unscaled in float64 by the float32 reciprocal
    q = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt2 = optim.SGD([q], lr=1.0)
    scaler.scale(q.sum() * 6).backward()
    scaler.unscale_(opt2)
    assert q.grad.dtype == mg.float64
    np.testing.assert_array_equal(q.grad.numpy(), [6.0])


def test_errors_match_torch():
    torch = pytest.importorskip("torch")

    def both(fn):
        """The message fn raises for matgrad's and for torch's (same type)."""
        out = []
        for lib, amp, params in ((mg, mg.amp, [mg.tensor([1.0], requires_grad=True)]),
                                 (torch, torch.amp, [torch.tensor([1.0], requires_grad=True)])):
            opt = (optim if lib is mg else torch.optim).SGD(params, lr=0.1)
            with pytest.raises((RuntimeError, AssertionError, ValueError)) as info:
                fn(lib, amp, params, opt)
            out.append((type(info.value), str(info.value)))
        assert out[0] == out[1], out
        return out[0]

    def twice(lib, amp, params, opt):
        s = amp.GradScaler("cpu")
        s.scale(params[0].sum()).backward()
        s.unscale_(opt)
        s.unscale_(opt)

    def after_step(lib, amp, params, opt):
        s = amp.GradScaler("cpu")
        s.scale(params[0].sum()).backward()
        s.step(opt)
        s.unscale_(opt)

    def step_twice(lib, amp, params, opt):
        s = amp.GradScaler("cpu")
        s.scale(params[0].sum()).backward()
        s.step(opt)
        s.step(opt)

    def no_scale(lib, amp, params, opt):
        amp.GradScaler("cpu").step(opt)

    def update_first(lib, amp, params, opt):
        s = amp.GradScaler("cpu")
        s.scale(params[0].sum())
        s.update()

    def closure(lib, amp, params, opt):
        s = amp.GradScaler("cpu")
        s.scale(params[0].sum())
        s.step(opt, closure=lambda: None)

    def fp16_grads(lib, amp, params, opt):
        s = amp.GradScaler("cpu", init_scale=2.0)
        half = lib.ones(1, dtype=lib.float16, requires_grad=True)
        s.scale(half.sum()).backward()
        s.unscale_((optim if lib is mg else lib.optim).SGD([half], lr=0.1))

    def not_tensor(lib, amp, params, opt):
        amp.GradScaler("cpu").scale([params[0], 3.0])

    assert "already been called" in both(twice)[1]
    assert "after step()" in both(after_step)[1]
    assert "step() has already been called" in both(step_twice)[1]
    assert both(no_scale)[0] is AssertionError
    assert "No inf checks" in both(update_first)[1]
    assert "Closure" in both(closure)[1]
    assert both(fp16_grads) == (ValueError, "Attempting to unscale FP16 gradients.")
    assert both(not_tensor)[0] is ValueError
    with pytest.raises(AssertionError, match="growth factor"):
        GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="backoff factor"):
        GradScaler("cpu", backoff_factor=1.0)


def test_update_with_new_scale():
    s = GradScaler("cpu", init_scale=4.0)
    s.scale(mg.ones(1))
    s.update(3.0)
    assert s.get_scale() == 3.0
    s.update(mg.tensor([5.0]))
    assert s.get_scale() == 5.0 and s._scale.shape == ()
    for bad in (mg.tensor([1.0, 2.0]), mg.tensor(1.0, requires_grad=True), 2):
        with pytest.raises(AssertionError, match="new_scale"):
            s.update(bad)


def test_scale_nested_outputs():
    s = GradScaler("cpu", init_scale=2.0)
    a, b, c = mg.ones(2), mg.full((3,), 2.0), mg.tensor(3.0)
    out = s.scale([a, (b, [c])])
    assert type(out) is list and type(out[1]) is tuple and type(out[1][1]) is list
    np.testing.assert_array_equal(out[0].numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(out[1][0].numpy(), [4.0, 4.0, 4.0])
    assert out[1][1][0].item() == 6.0
    gen = s.scale(t for t in (a, b))  # another iterable: a lazy map, as torch's
    assert not isinstance(gen, (list, tuple))
    np.testing.assert_array_equal(next(gen).numpy(), [2.0, 2.0])
    half = s.scale(mg.ones(2, dtype=mg.float16))
    assert half.dtype == mg.float16  # the 0-d float32 scale does not promote, as in torch


def test_disabled_passes_through():
    calls = []
    p = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    opt.step = lambda *a, **k: calls.append((a, k)) or "ret"
    s = GradScaler("cpu", enabled=False, growth_factor=0.5)  # no factor checks when disabled, as torch
    loss = p.sum()
    assert s.scale(loss) is loss
    s.unscale_(opt)
    assert s.step(opt, 1, x=2) == "ret" and calls == [((1,), {"x": 2})]
    s.update()
    assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {} and s._get_growth_tracker() == 0
    s.load_state_dict({})  # a no-op


def test_getters_setters_and_state_dict_round_trip():
    torch = pytest.importorskip("torch")
    s = GradScaler("cpu", init_scale=16.0, growth_interval=7)
    s.set_growth_factor(3.0)
    s.set_backoff_factor(0.25)
    s.set_growth_interval(5)
    assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == (3.0, 0.25, 5)
    assert s.is_enabled()
    want = {"scale": 16.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 5, "_growth_tracker": 0}
    assert s.state_dict() == want
    t = torch.amp.GradScaler("cpu")
    t.load_state_dict(s.state_dict())
    assert t.state_dict() == want  # torch's keys
    t.scale(torch.ones(1))
    t.update(64.0)
    s.load_state_dict(t.state_dict())
    assert s.state_dict() == {**want, "scale": 64.0}
    s.scale(mg.ones(1))  # a made scale is filled in place by load_state_dict
    s.load_state_dict({**want, "scale": 2.0, "_growth_tracker": 4})
    assert s._scale.item() == 2.0 and s._growth_tracker.item() == 4
    with pytest.raises(RuntimeError, match="empty"):
        s.load_state_dict({})


def test_pickle():
    s = GradScaler("cpu", init_scale=8.0)
    s.scale(mg.ones(1))
    s.update(2.0)
    r = pickle.loads(pickle.dumps(s))
    assert r._scale is None and r.get_scale() == 2.0 and r.state_dict() == s.state_dict()
    p = mg.tensor([1.0], requires_grad=True)
    s.scale(p.sum()).backward()
    s.step(optim.SGD([p], lr=1.0))
    with pytest.raises(AssertionError, match="pickled"):
        pickle.dumps(s)


def test_optimizer_that_scales_itself():
    class Fused(optim.SGD):
        _step_supports_amp_scaling = True

        def step(self, closure=None):
            self.seen = (float(self.grad_scale.item()), float(self.found_inf.item()))

    p = mg.tensor([1.0], requires_grad=True)
    opt = Fused([p], lr=1.0)
    s = GradScaler("cpu", init_scale=8.0)
    s.scale(p.sum()).backward()
    p.grad.array[0] = np.inf
    s.step(opt)
    assert opt.seen == (8.0, 1.0) and not hasattr(opt, "grad_scale") and not hasattr(opt, "found_inf")
    s.update()
    assert s.get_scale() == 4.0


def test_cuda_without_gpu_and_deprecated_alias():
    if mg.cuda.is_available():
        pytest.skip("a GPU backend is present")
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        s = GradScaler()
    assert not s.is_enabled()
    with pytest.warns(FutureWarning, match=r"matgrad.cuda.amp.GradScaler\(args...\)` is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            from matgrad.cuda.amp import GradScaler as Old

            old = Old(init_scale=4.0)
    assert isinstance(old, GradScaler) and old._device == "cuda"
    assert mg.cuda.amp.GradScaler is Old and mg.amp.grad_scaler.GradScaler is GradScaler


def test_on_the_cuda_test_device(cuda):
    p = mg.tensor([1.0, 2.0], requires_grad=True).to(cuda).detach().requires_grad_()
    opt = optim.SGD([p], lr=0.5)
    s = GradScaler("cuda", init_scale=4.0, growth_interval=1)
    loss = s.scale((p * p).sum())
    assert loss.device == cuda and s._scale.device == cuda
    loss.backward()
    s.step(opt)
    found = s._found_inf_per_device(opt)
    assert list(found) == [cuda] and found[cuda].device == cuda and found[cuda].item() == 0.0
    s.update()
    assert s.get_scale() == 8.0  # grown after growth_interval=1 clean step
    np.testing.assert_allclose(p.detach().to("cpu").numpy(), [0.0, 0.0])  # p - 0.5 · 2p
    with pytest.warns(FutureWarning):
        assert mg.cuda.amp.GradScaler().is_enabled()
