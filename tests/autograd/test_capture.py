"""autograd.capture: a step replayed is the step run, bit for bit; what changes falls back; what cannot be replayed
is refused, and says why.

Each exactness test trains two copies of a model from the same weights on the same batches, one
with the step as written and one through capture, and compares the loss and every `.grad` with
np.array_equal after every step (so the optimizer's updates are compared too).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.autograd.capture import CapturedGraph, CaptureError, CaptureFallback, capture

F = nn.functional


def twins(build: Callable[[], nn.Module], lr: float = 0.1, momentum: float = 0.9) -> tuple[Any, Any]:
    """Two copies of the model `build` makes, from the same weights, each with its SGD."""
    out = []
    for _ in range(2):
        mg.manual_seed(7)
        model = build()
        out.append((model, mg.optim.SGD(model.parameters(), lr=lr, momentum=momentum)))
    return out[0], out[1]


def assert_same(loss_a: mg.Tensor, loss_b: mg.Tensor, model_a: nn.Module, model_b: nn.Module) -> None:
    assert np.array_equal(loss_a.array, loss_b.array), (loss_a.item(), loss_b.item())
    for (name, p), q in zip(model_a.named_parameters(), model_b.parameters()):
        assert p.grad is not None and q.grad is not None, name
        assert p.grad.dtype == q.grad.dtype
        assert np.array_equal(p.grad.array, q.grad.array), name


def train_both(build: Callable[[], nn.Module], loss_fn: Any, batches: list[tuple[mg.Tensor, mg.Tensor]],
               steps: int) -> Any:
    """`steps` SGD steps of the step as written and of its capture, compared after each; the capture."""
    (model_a, opt_a), (model_b, opt_b) = twins(build)
    step = capture(lambda x, y: loss_fn(model_b(x), y))
    for i in range(steps):
        x, y = batches[i % len(batches)]
        opt_a.zero_grad()
        opt_b.zero_grad()
        loss_a = loss_fn(model_a(x), y)
        loss_a.backward()
        loss_b = step(x, y)
        loss_b.backward()
        assert_same(loss_a, loss_b, model_a, model_b)
        opt_a.step()
        opt_b.step()
    return step


def batches(n: int, x_shape: tuple[int, ...], y_of: Callable[[np.random.Generator, int], np.ndarray],
            seed: int = 0) -> list[tuple[mg.Tensor, mg.Tensor]]:
    rng = np.random.default_rng(seed)
    return [(mg.tensor(rng.standard_normal(x_shape)), mg.tensor(y_of(rng, x_shape[0]))) for _ in range(n)]


def one_hot(rng: np.random.Generator, n: int, classes: int = 4) -> np.ndarray:
    y = np.zeros((n, classes))
    y[np.arange(n), rng.integers(0, classes, n)] = 1
    return y


def seed_mlp(dtype: Any = mg.float64) -> nn.Module:
    """The seed recipe's network, small: Linear-ReLU-Linear-Sigmoid."""
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4), nn.Sigmoid()).to(dtype)


# --- exactness -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [mg.float64, mg.float32])
def test_seed_mlp_is_exact(dtype: Any) -> None:
    data = [(x.to(dtype), y.to(dtype)) for x, y in batches(4, (8, 12), one_hot)]
    step = train_both(lambda: seed_mlp(dtype), nn.BCELoss(), data, steps=8)
    assert (step.stats.traces, step.stats.replays, step.stats.fallbacks) == (2, 6, 0)


class _Gated(nn.Module):
    """Linear → its output cut in three (chunk) → a·σ(b) + c: pieces of one tensor, as attention's q, k, v."""

    def __init__(self) -> None:
        super().__init__()
        self.proj, self.head = nn.Linear(12, 18), nn.Linear(6, 4)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        a, b, c = self.proj(x).chunk(3, -1)
        return self.head(a * b.sigmoid() + c[:, :1] * c)


@pytest.mark.parametrize("dtype", [mg.float64, mg.float32])
def test_pieces_of_a_tensor_are_exact(dtype: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay adds the pieces' slices into one gradient in place, as the engine does: the same bits."""
    from matgrad.ops.indexing import GetItem
    added = []
    add = GetItem.add_grad_into
    monkeypatch.setattr(GetItem, "add_grad_into", lambda self, acc, dy: added.append(1) or add(self, acc, dy))
    data = [(x.to(dtype), mg.tensor(y.argmax(1))) for x, y in batches(3, (8, 12), one_hot)]
    step = train_both(lambda: _Gated().to(dtype), nn.CrossEntropyLoss(), data, steps=6)
    assert (step.stats.traces, step.stats.replays) == (2, 4)
    assert len(added) == 2 * 6 * 2  # the two pieces after the first, in each of 6 steps, on both sides


def test_replayed_loss_has_one_node_over_the_parameters() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    for _ in range(3):
        loss = step(x, y)
    assert isinstance(loss.grad_fn, CapturedGraph)
    assert [p.shape for p in loss.grad_fn.parents] == [(4, 16), (4,), (16, 12), (16,)]  # newest node first


def test_conv_net_with_cross_entropy_is_exact() -> None:
    def build() -> nn.Module:
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 4 * 4, 5)).to(mg.float64)

    data = batches(3, (6, 2, 8, 8), lambda rng, n: rng.integers(0, 5, n))
    step = train_both(build, nn.CrossEntropyLoss(), data, steps=6)
    assert step.stats.replays == 4


class Tied(nn.Module):
    """A square weight used twice (h = relu(x Wᵀ + b), out = h Wᵀ + c) and a scale broadcast over the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.c = nn.Parameter(mg.zeros(6, dtype=mg.float64))
        self.scale = nn.Parameter(mg.ones(1, 6, dtype=mg.float64))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        h = F.relu(self.lin(x))
        return (h @ self.lin.weight.T + self.c) * self.scale + h * 0.5


def test_tied_weight_and_gradient_accumulation_are_exact() -> None:
    """Gradients added into .grad over micro-batches without zero_grad, a weight read twice: the same sums."""
    (model_a, opt_a), (model_b, opt_b) = twins(lambda: Tied().to(mg.float64))
    loss_fn = nn.MSELoss()
    step = capture(lambda x, y: loss_fn(model_b(x), y))
    data = batches(6, (5, 6), lambda rng, n: rng.standard_normal((n, 6)))
    for k in range(3):  # three optimizer steps of two micro-batches each, and .grad kept across the first two
        for x, y in data[2 * k:2 * k + 2]:
            loss_a = loss_fn(model_a(x), y)
            loss_a.backward()
            loss_b = step(x, y)
            loss_b.backward()
            assert_same(loss_a, loss_b, model_a, model_b)
        opt_a.step()
        opt_b.step()
        if k:
            opt_a.zero_grad()
            opt_b.zero_grad()
    assert step.stats.replays == 4
    names = {id(p): name for name, p in model_b.named_parameters()}
    uses = [names[id(p)] for p in step(x, y).grad_fn.parents]  # the weight once per use, in the engine's order
    assert uses == ["scale", "c", "lin.weight", "lin.weight", "lin.bias"]


def test_retain_graph_and_autograd_grad_are_exact() -> None:
    (model_a, _), (model_b, _) = twins(seed_mlp)
    step = capture(lambda x, y: F.binary_cross_entropy(model_b(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    for _ in range(3):
        loss_b = step(x, y)
    loss_a = F.binary_cross_entropy(model_a(x), y)
    for loss in (loss_a, loss_b):
        loss.backward(retain_graph=True)
        loss.backward()
    assert_same(loss_a, loss_b, model_a, model_b)
    ga = mg.autograd.grad(F.binary_cross_entropy(model_a(x), y), list(model_a.parameters()))
    gb = mg.autograd.grad(step(x, y), list(model_b.parameters()))
    assert all(np.array_equal(a.array, b.array) for a, b in zip(ga, gb))
    with pytest.raises(RuntimeError, match="a second time"):
        loss_b.backward()


def test_parameter_hooks_run_as_uncaptured() -> None:
    (model_a, _), (model_b, _) = twins(lambda: Tied().to(mg.float64))
    seen: dict[str, list[np.ndarray]] = {"a": [], "b": []}
    model_a.lin.weight.register_hook(lambda g: seen["a"].append(g.array.copy()))
    model_b.lin.weight.register_hook(lambda g: seen["b"].append(g.array.copy()))
    step = capture(lambda x, y: F.mse_loss(model_b(x), y))
    for x, y in batches(4, (5, 6), lambda rng, n: rng.standard_normal((n, 6))):
        F.mse_loss(model_a(x), y).backward()
        step(x, y).backward()
    assert step.stats.replays == 2 and len(seen["a"]) == len(seen["b"]) == 4
    assert all(np.array_equal(a, b) for a, b in zip(seen["a"], seen["b"]))  # the hook saw the summed gradient


def test_inputs_that_require_grad_get_their_gradients() -> None:
    (model_a, _), (model_b, _) = twins(seed_mlp)
    step = capture(lambda x, y: F.binary_cross_entropy(model_b(x), y))
    for x, y in batches(4, (8, 12), one_hot):
        xa, xb = x.detach().requires_grad_(), x.detach().requires_grad_()
        loss_a = F.binary_cross_entropy(model_a(xa), y)
        loss_a.backward()
        loss_b = step(xb, y)
        loss_b.backward()
        assert_same(loss_a, loss_b, model_a, model_b)
        assert np.array_equal(xa.grad.array, xb.grad.array)
    assert step.stats.replays == 2


def test_on_a_device_is_exact() -> None:
    """On the CuPy-like test device: the forwards and backwards replay on the device's arrays."""
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    before = devices.set_cuda_backend(fake_backend())
    try:
        cuda = devices.device("cuda", 0)

        def build() -> nn.Module:
            return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(3 * 4 * 4, 5)).to(mg.float64).to(cuda)

        data = [(x.to(cuda), y.to(cuda)) for x, y in batches(3, (4, 2, 8, 8), lambda rng, n: rng.integers(0, 5, n))]
        step = train_both(build, nn.CrossEntropyLoss(), data, steps=5)
        assert step.stats.replays == 3
    finally:
        devices.restore_cuda_backend(before)


# --- falling back ----------------------------------------------------------------------------------------

def test_a_new_batch_shape_falls_back_once_and_stays_exact() -> None:
    (model_a, opt_a), (model_b, opt_b) = twins(seed_mlp)
    step = capture(lambda x, y: F.binary_cross_entropy(model_b(x), y))
    big = batches(3, (8, 12), one_hot)
    small = batches(3, (5, 12), one_hot, seed=1)
    order = [big[0], big[1], big[2], small[0], big[0], small[1], small[2], big[1], small[0]]

    def one(x: mg.Tensor, y: mg.Tensor) -> None:
        for opt in (opt_a, opt_b):
            opt.zero_grad()
        loss_a = F.binary_cross_entropy(model_a(x), y)
        loss_a.backward()
        loss_b = step(x, y)
        loss_b.backward()
        assert_same(loss_a, loss_b, model_a, model_b)
        opt_a.step()
        opt_b.step()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x, y in order:
            one(x, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, CaptureFallback)]
    assert messages == ["capture: input 0 has shape (5, 12), captured with (8, 12); running the step uncaptured "
                        "and capturing it anew"]
    assert caught[0].filename == __file__  # the warning points at the call of the step
    # 8-row batches: traced twice, then replayed; 5-row: traced twice (the first one a fallback), then replayed
    assert (step.stats.traces, step.stats.fallbacks, step.stats.replays) == (4, 1, 5)


def test_frozen_parameter_falls_back() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    for _ in range(3):
        step(x, y)
    model[0].bias.requires_grad_(False)
    with pytest.warns(CaptureFallback, match=r"a parameter the step reads now has shape \(16,\), float64 on cpu, "
                                             r"captured with shape \(16,\), float64 on cpu, requires_grad"):
        loss = step(x, y)
    assert loss.grad_fn is not None and not isinstance(loss.grad_fn, CapturedGraph)


def test_the_quick_check_of_a_replay_still_sees_every_change() -> None:
    """After the capture each call is checked by keys compared in C: a repeated input, a non-Tensor, another
    dtype, a parameter replaced by another shape all fall back (or raise) as the full signature does."""
    model = seed_mlp()
    step = capture(lambda a, b: (model(a) - model(b)).square().mean())
    a, b = (mg.tensor(np.random.default_rng(k).standard_normal((8, 12))) for k in (1, 2))
    for _ in range(3):
        step(a, b)
    assert isinstance(step(b, a).grad_fn, CapturedGraph)  # other tensors, the same signature: replayed
    with pytest.warns(CaptureFallback, match=r"input 1 has shape \(8, 12\), float64 on cpu, requires_grad, captured"):
        assert not isinstance(step(a, mg.tensor(b.array, requires_grad=True)).grad_fn, CapturedGraph)
    assert isinstance(step(a, b).grad_fn, CapturedGraph)  # the first capture is kept
    with pytest.warns(CaptureFallback, match=r"now has 3 inputs \(or repeats one\)"):
        assert not isinstance(step(a, a).grad_fn, CapturedGraph)
    with pytest.raises(TypeError, match="inputs must be Tensors"):
        step(a.array, b)
    step.recapture()
    for _ in range(3):
        step(a, b)
    weight = model[2].weight
    weight.data = mg.tensor(np.zeros((4, 16)))  # the same shape and dtype: still replayed, reading the new values
    loss = step(a, b)
    assert isinstance(loss.grad_fn, CapturedGraph)
    loss.backward()
    assert np.array_equal(model[2].weight.grad.array, np.zeros((4, 16)))
    model[2].weight.data = mg.tensor(np.zeros((4, 17)))  # another shape: the step runs as written (and fails so)
    with pytest.warns(CaptureFallback, match=r"a parameter the step reads now has shape \(4, 17\)"):
        with pytest.raises(RuntimeError, match="does not fit weight"):
            step(a, b)


def test_a_changed_graph_is_captured_again() -> None:
    model = seed_mlp()
    use_tanh = [False]
    step = capture(lambda x, y: F.binary_cross_entropy(model(x).tanh().abs() if use_tanh[0] else model(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    step(x, y)
    use_tanh[0] = True
    with pytest.warns(CaptureFallback, match=r"the graph changed between two calls \(7 ops, 5 before\)"):
        step(x, y)
    step(x, y)
    assert isinstance(step(x, y).grad_fn, CapturedGraph)
    use_tanh[0] = False  # unseen by replay, as documented: recapture() after changing the model
    step.recapture()
    loss = step(x, y)
    assert np.array_equal(loss.array, F.binary_cross_entropy(model(x), y).array)


def test_a_graph_that_changes_on_every_call_is_refused() -> None:
    model = seed_mlp()
    calls = [0]

    def fn(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        calls[0] += 1
        out = model(x)
        for _ in range(calls[0] % 2):
            out = out * 1.0
        return F.binary_cross_entropy(out, y)

    step = capture(fn)
    (x, y), = batches(1, (8, 12), one_hot)
    with pytest.warns(CaptureFallback):
        for _ in range(3):
            step(x, y)
        with pytest.raises(CaptureError, match="the graph changed 3 times in a row"):
            step(x, y)


def test_no_grad_calls_run_the_step_as_written() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    for _ in range(3):
        step(x, y)
    with mg.no_grad():
        loss = step(x, y)
    assert loss.grad_fn is None and step.stats.plain == 1
    assert isinstance(step(x, y).grad_fn, CapturedGraph)


# --- refusals --------------------------------------------------------------------------------------------

def test_dropout_in_training_is_refused() -> None:
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 4), nn.Sigmoid()).to(mg.float64)
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y))
    data = batches(2, (8, 12), one_hot)
    step(*data[0])
    with pytest.raises(CaptureError, match=r"input 1 of Mul \(op 3 of 6\) is a constant of shape \(8, 16\) whose "
                                           r"values differ .* dropout's mask.*model\.eval\(\)"):
        step(*data[1])


def test_dropout_in_eval_mode_is_captured() -> None:
    def build() -> nn.Module:
        return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 4), nn.Sigmoid()).to(
            mg.float64).eval()

    step = train_both(build, nn.BCELoss(), batches(3, (8, 12), one_hot), steps=5)
    assert step.stats.replays == 3


def test_batchnorm_in_training_is_refused() -> None:
    model = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4)).to(mg.float64)
    step = capture(lambda x, y: F.mse_loss(model(x), y))
    with pytest.raises(CaptureError, match=r"changed in place while the step ran \(BatchNorm's running statistics"):
        step(*batches(1, (8, 12), one_hot)[0])


def test_user_function_is_refused() -> None:
    class Cube(mg.autograd.Function):
        """y = x³.  dx = 3x² · dy."""

        @staticmethod
        def forward(ctx: Any, x: mg.Tensor) -> mg.Tensor:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, dy: mg.Tensor) -> mg.Tensor:
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * dy

    model = seed_mlp()
    step = capture(lambda x, y: F.mse_loss(Cube.apply(model(x)), y))
    with pytest.raises(CaptureError, match=r"Cube \(op 5 of 8\) is a user autograd\.Function"):
        step(*batches(1, (8, 12), one_hot)[0])


def test_a_constant_computed_from_the_inputs_is_refused() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y * 0.5 + 0.25))  # y does not require grad
    data = batches(2, (8, 12), one_hot)
    step(*data[0])
    with pytest.raises(CaptureError, match=r"input 1 of BinaryCrossEntropy .* computed from the inputs"):
        step(*data[1])


def test_a_constant_is_trusted_only_once_the_inputs_differ() -> None:
    """Two calls on the same batch cannot tell a constant made from the inputs from a literal: capture waits."""
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y * 0.5 + 0.25))
    data = batches(2, (8, 12), one_hot)
    with pytest.warns(CaptureFallback, match="two calls on the same input values cannot tell"):
        for _ in range(3):
            step(*data[0])
    assert (step.stats.traces, step.stats.replays) == (3, 0)
    with pytest.raises(CaptureError, match="computed from the inputs"):
        step(*data[1])


def test_a_view_of_a_parameter_made_in_each_call_is_refused() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.mse_loss(model(x) * model[2].bias.detach(), y))
    data = batches(2, (8, 12), one_hot)
    step(*data[0])
    with pytest.raises(CaptureError, match="shares memory with an input or a parameter"):
        step(*data[1])


def test_hooks_inside_the_step_and_bad_losses_are_refused() -> None:
    model = seed_mlp()
    (x, y), = batches(1, (8, 12), one_hot)

    def hooked(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        h = model(x)
        h.register_hook(lambda g: g)
        return F.binary_cross_entropy(h, y)

    with pytest.raises(CaptureError, match="has a hook or retain_grad"):
        capture(hooked)(x, y)
    with pytest.raises(CaptureError, match=r"returned a tensor of shape \(8, 4\)"):
        capture(lambda x, y: F.binary_cross_entropy(model(x), y, reduction="none"))(x, y)
    with pytest.raises(TypeError, match="inputs must be Tensors"):
        capture(lambda x, y: F.binary_cross_entropy(model(x), y))(x.array, y)


def test_replayed_loss_refuses_create_graph_and_explain() -> None:
    model = seed_mlp()
    step = capture(lambda x, y: F.binary_cross_entropy(model(x), y))
    (x, y), = batches(1, (8, 12), one_hot)
    for _ in range(3):
        loss = step(x, y)
    with pytest.raises(RuntimeError, match="create_graph"):
        mg.autograd.grad(loss, list(model.parameters()), create_graph=True)
    with pytest.raises(RuntimeError, match="captured step's replay"):
        step(x, y).explain(print_table=False)


def test_inf_and_minus_inf_parts_sum_to_nan_without_a_warning() -> None:
    """An inner node reached by +inf along one path and -inf along the other: nan, silently, as uncaptured."""
    w = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)

    def fn(x: mg.Tensor) -> mg.Tensor:
        y = w * x  # its output gradient has two parts, one per path below
        return y.sum() - (y * 2).sum()

    step = capture(fn)
    for k in range(3):  # two traced calls, then a replay
        w.grad = None
        loss = step(mg.tensor([1.0, 1.0 + k], dtype=mg.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            loss.backward(mg.tensor(np.inf, dtype=mg.float64))  # parts inf and -2·inf
        assert np.isnan(w.grad.numpy()).all()
    assert step.stats.replays == 1
