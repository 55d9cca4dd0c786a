"""One training step of an MLP, nine ways: matgrad, captured, PyTorch, MyGrad, hand-written NumPy, tuned, same,
ops, floor.

The recipe is the seed's: Linear -> ReLU -> Linear -> Sigmoid, binary cross-entropy on
one-hot targets (mean over every element), SGD with momentum 0.9, float32. Every
implementation starts from the same weights and steps through the same batches, so
they do the same arithmetic; only the machinery around it differs.

- matgrad: written the way a user writes it, with matgrad.nn / optim.
- captured: the same matgrad step with its forward and backward through matgrad.autograd.capture,
  which replays the recorded ops (bit for bit the same arithmetic) without the Python around them.
- torch: the identical PyTorch code (CPU, same thread count as NumPy's BLAS).
- mygrad: MyGrad (another NumPy autograd library, a peer when installed), written as its
  user would: Tensors, matmul, mygrad.nnet's relu and sigmoid, BCE from mygrad ops, SGD
  with momentum by hand on the .data arrays.
- numpy: the seed's own approach, matrix derivatives by hand, no autograd:
  dW = Xᵀ·dY, dX = dY·Wᵀ, momentum updated in place.
- tuned: the same hand-written step with matgrad's own kernels (weights out×in, ReLU by
  clip, db as a product with ones, one BLAS pass per momentum update) and its placement of weights and momentum (on
  huge pages from 2 MiB, matgrad.memory): the step's arithmetic with no graph at all, so
  matgrad / tuned is what the autograd machinery costs.
- same: tuned again, but with PyTorch's (and matgrad's) arithmetic for Sigmoid + BCELoss, pass for pass:
  the sigmoid's output, BCE with its clamps, BCE's backward dp = (p − y)/max(p(1 − p), 1e-12)/N, then
  the sigmoid's backward dp·p(1 − p), where the seed's step computes (p − y)/N once. matgrad / same is
  what the autograd machinery alone costs; same / numpy what PyTorch's BCELoss semantics cost.
- ops: matgrad's own ops for the step (Linear, ReLU, Linear, Sigmoid, BCELoss), each op's forward
  and backward called in straight-line code on the arrays, and SGD's update by its BLAS calls: what
  a replay with no machinery around the ops would cost. captured / ops is what capture's replay
  costs; ops / same what the ops' own Python and fresh outputs cost against the same arithmetic by hand.
- floor: the five matrix products the step needs (two forward, three backward), alone.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

LR = 0.1
MOMENTUM = 0.9
N_BATCHES = 8  # distinct batches cycled through: real data traffic, no data loading cost
#: Every implementation's weights and momentum go back to their start every this many steps (_cycler). Trained
#: on and on, the network grows so sure of the N_BATCHES batches it has memorized that its float32 gradients turn
#: subnormal, and subnormal arithmetic is several times slower on Intel CPUs: the hand-written step (numpy, one
#: thread, Intel Xeon with AVX-512) took 0.33-0.37 ms a step at 784-128-10 b64 for its first 700 steps and 1.28
#: from step 800 on, 2.3 ms at b32 then 8.3, 7.5 ms at b256 then 12.3 (flush-to-zero took the slowdown away).
#: Each implementation's time then depended on how many steps it had already taken: a sample's calls are
#: counted per implementation, so they were measured at different points of the training.
RESET_EVERY = 256

StepFn = Callable[[np.ndarray, np.ndarray], object]  # returns the loss (anything float() takes)


@dataclass(frozen=True)
class Spec:
    """A network (layer sizes) and a batch size."""

    sizes: tuple[int, int, int] = (784, 1024, 10)
    batch: int = 256

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.sizes))} b{self.batch}"

    def steps_per_epoch(self, samples: int = 60_000) -> int:
        return -(-samples // self.batch)


@dataclass
class Problem:
    """Shared starting weights (PyTorch's layout, out×in) and batches, all float32."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    xs: list[np.ndarray]
    ys: list[np.ndarray]


def make_problem(spec: Spec, seed: int = 0) -> Problem:
    """PyTorch's default Linear init (uniform ±1/√fan_in) and random MNIST-like batches."""
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = spec.sizes

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    xs = [rng.random((spec.batch, n_in), dtype=np.float32) for _ in range(N_BATCHES)]
    ys = []
    for _ in range(N_BATCHES):
        y = np.zeros((spec.batch, n_out), np.float32)
        y[np.arange(spec.batch), rng.integers(0, n_out, spec.batch)] = 1
        ys.append(y)
    return Problem(uniform((n_hid, n_in), n_in), uniform((n_hid,), n_in),
                   uniform((n_out, n_hid), n_hid), uniform((n_out,), n_hid), xs, ys)


def _cycler(fn: StepFn, p: Problem) -> Callable[[], None]:
    """A zero-argument step that runs `fn` on the next batch each call, and every RESET_EVERY calls first puts the
    weights and momentum back to their start (`fn.reset`, which each make_step gives its step)."""
    state = [0]
    reset = getattr(fn, "reset", None)

    def step() -> None:
        n = state[0]
        state[0] = n + 1
        if n and n % RESET_EVERY == 0 and reset is not None:
            reset()
        i = n % N_BATCHES
        fn(p.xs[i], p.ys[i])

    return step


def _with_reset(step: StepFn, reset: Callable[[], None]) -> StepFn:
    step.reset = reset  # type: ignore[attr-defined]
    return step


def _zero_momentum(opt: Any) -> None:
    """An optimizer's momentum buffers set to zero in place: the next step's buffer is 0.9·0 + g = g exactly, as
    a first step's (PyTorch's SGD clones g, matgrad's copies it)."""
    for state in opt.state.values():
        buf = state.get("momentum_buffer")
        if buf is not None:
            buf[...] = 0


def _model_reset(lib: Any, model: Any, opt: Any, p: Problem) -> Callable[[], None]:
    """Put a user model's weights (from `p`) and its optimizer's momentum back to their start."""
    def reset() -> None:
        with lib.no_grad():
            for param, value in zip(model.parameters(), (p.w1, p.b1, p.w2, p.b2)):
                param.copy_(lib.from_numpy(value))
        _zero_momentum(opt)
    return reset


def seed_model(lib: Any, spec: Spec, p: Problem) -> tuple[Any, Any, Any]:
    """The seed recipe as a user builds it, in `lib` (matgrad or torch), from `p`'s weights:
    (nn.Sequential Linear-ReLU-Linear-Sigmoid, nn.BCELoss(), optim.SGD with momentum)."""
    nn, optim = lib.nn, lib.optim
    n_in, n_hid, n_out = spec.sizes
    model = nn.Sequential(nn.Linear(n_in, n_hid), nn.ReLU(), nn.Linear(n_hid, n_out), nn.Sigmoid())
    with lib.no_grad():
        for param, value in zip(model.parameters(), (p.w1, p.b1, p.w2, p.b2)):
            param.copy_(lib.from_numpy(value))
    return model, nn.BCELoss(), optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)


def user_step(lib_name: str, spec: Spec, p: Problem, threads: int) -> StepFn:
    """The seed's step as a user writes it (nn, BCELoss, optim.SGD): the same code for matgrad
    and PyTorch, only the imported library differs."""
    lib = importlib.import_module(lib_name)
    if lib_name == "torch":  # matgrad shares NumPy's BLAS, whose threads the caller has set
        lib.set_num_threads(threads)
    model, loss_fn, opt = seed_model(lib, spec, p)

    def step(x: np.ndarray, y: np.ndarray) -> None:
        opt.zero_grad()
        loss = loss_fn(model(lib.from_numpy(x)), lib.from_numpy(y))
        loss.backward()
        opt.step()
        return loss

    return _with_reset(step, _model_reset(lib, model, opt, p))


def captured_step(spec: Spec, p: Problem) -> StepFn:
    """user_step's matgrad step with the forward and backward captured (matgrad.autograd.capture):
    calls 1 and 2 run the model and record the graph, later calls replay its ops on the arrays."""
    import matgrad as mg

    model, loss_fn, opt = seed_model(mg, spec, p)
    forward = mg.autograd.capture(lambda x, y: loss_fn(model(x), y))

    def step(x: np.ndarray, y: np.ndarray) -> object:
        opt.zero_grad()
        loss = forward(mg.from_numpy(x), mg.from_numpy(y))
        loss.backward()
        opt.step()
        return loss

    return _with_reset(step, _model_reset(mg, model, opt, p))


def numpy_step(spec: Spec, p: Problem) -> StepFn:
    """The seed's step by hand: explicit matrix derivatives, momentum in place.

    Weights are kept in×out here (X·W, as the seed writes it), so dW = Xᵀ·dY.
    """
    w1, b1, w2, b2 = p.w1.T.copy(), p.b1.copy(), p.w2.T.copy(), p.b2.copy()
    params = (w1, b1, w2, b2)
    velocity = [np.zeros_like(w) for w in params]
    scratch = [np.empty_like(w) for w in params]

    def step(x: np.ndarray, y: np.ndarray) -> np.floating:
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)  # ReLU
        z = h @ w2
        z += b2
        loss, dz = _sigmoid_bce(z, y)
        dw2, db2 = h.T @ dz, dz.sum(0)
        dh = dz @ w2.T
        np.multiply(dh, h > 0, out=dh)  # through ReLU
        dw1, db1 = x.T @ dh, dh.sum(0)
        for w, g, v, s in zip(params, (dw1, db1, dw2, db2), velocity, scratch):
            v *= MOMENTUM
            v += g
            np.multiply(v, LR, out=s)
            w -= s
        return loss

    def reset() -> None:
        for w, v, start in zip(params, velocity, (p.w1.T, p.b1, p.w2.T, p.b2)):
            w[...] = start
            v[...] = 0

    return _with_reset(step, reset)


def _sigmoid_bce(z: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Sigmoid of the logits z (in place) and BCE averaged over every element:
    (loss, dL/dz). dL/dz = (p - y) / (N·C): BCE's and the sigmoid's derivatives, multiplied out."""
    np.negative(z, out=z)  # sigmoid, in place: 1 / (1 + e⁻ᶻ)
    np.exp(z, out=z)
    z += 1
    prob = np.reciprocal(z, out=z)
    eps = np.float32(1e-12)
    loss = -(y * np.log(prob + eps) + (1 - y) * np.log(1 - prob + eps)).mean()
    dz = prob - y
    dz *= np.float32(1 / dz.size)
    return loss, dz


def tuned_step(spec: Spec, p: Problem) -> StepFn:
    """The hand-written step with matgrad's kernels and layout, and no graph: W out×in
    (Y = X·Wᵀ, dW = dYᵀ·X), ReLU by clip, db as a product with ones, the momentum update as BLAS axpby + axpy."""
    return _no_graph_step(p, _sigmoid_bce)


def same_step(spec: Spec, p: Problem) -> StepFn:
    """tuned_step with PyTorch's Sigmoid + BCELoss arithmetic, the passes matgrad's ops make (see the module's doc)."""
    return _no_graph_step(p, _sigmoid_bce_as_pytorch)


def _no_graph_step(p: Problem, loss_grad: Callable[[np.ndarray, np.ndarray], tuple[Any, np.ndarray]]) -> StepFn:
    """tuned_step's layers and update around `loss_grad(z, y) -> (loss, dL/dz)`. The weights and the
    momentum lie where matgrad puts its own (matgrad.memory: on huge pages from 2 MiB), so the two
    differ only in the machinery."""
    from matgrad import blas, memory
    from matgrad.ops.linear import (
        _affine,  # Linear's forward product, X·Wᵀ + b, in the layout its rule picks
        _column_sums,  # Linear's db: Σ_rows dY as one product with ones
    )

    params = tuple(memory.copy(a) for a in (p.w1, p.b1, p.w2, p.b2))
    w1, b1, w2, b2 = params
    velocity = [memory.zeros_like(w) for w in params]

    def step(x: np.ndarray, y: np.ndarray) -> np.floating:
        h = _affine(x, w1, b1)
        h = np.clip(h, 0, np.inf)  # ReLU
        z = _affine(h, w2, b2)
        loss, dz = loss_grad(z, y)
        dw2, db2 = np.matmul(dz.T, h), _column_sums(np, dz)
        dh = np.matmul(dz, w2)
        np.multiply(dh, h > 0, out=dh)  # through ReLU
        dw1, db1 = np.matmul(dh.T, x), _column_sums(np, dh)
        for w, g, v in zip(params, (dw1, db1, dw2, db2), velocity):
            blas.axpby(1.0, g, MOMENTUM, v)  # v = momentum·v + g (v starts at 0, so step 1 gives v = g)
            blas.axpy(-LR, v, w)
        return loss

    def reset() -> None:
        for w, v, start in zip(params, velocity, (p.w1, p.b1, p.w2, p.b2)):
            w[...] = start
            v[...] = 0

    return _with_reset(step, reset)


def _sigmoid_bce_as_pytorch(z: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """_sigmoid_bce with PyTorch's passes: Sigmoid, BCELoss with its clamps, BCELoss's backward, Sigmoid's."""
    prob = np.exp(np.negative(z, out=z), out=z)  # Sigmoid, in place
    prob += 1
    np.reciprocal(prob, out=prob)
    log_p, log_1mp = np.log(prob), np.log1p(-prob)  # BCELoss, with PyTorch's clamps
    np.maximum(log_p, -100, out=log_p)
    np.maximum(log_1mp, -100, out=log_1mp)
    log_1mp *= y - 1
    log_p *= y
    loss = np.subtract(log_1mp, log_p, out=log_1mp).mean()
    var = prob * (1 - prob)  # BCELoss's backward: dp = (p - y) / max(p(1 - p), ε) / N
    np.maximum(var, np.float32(1e-12), out=var)
    dp = prob - y
    dp /= var
    dp *= np.float32(1 / dp.size)
    dz = 1 - prob  # Sigmoid's backward: dz = dp · p(1 - p)
    dz *= prob
    dz *= dp
    return loss, dz


def ops_step(spec: Spec, p: Problem) -> StepFn:
    """The step as matgrad's ops compute it, with nothing around them: each op made and its forward and
    backward called in turn (as Op.apply and the engine would, without the graph, the Tensors' bookkeeping
    or the modules), then SGD's update (momentum: the first step copies the gradient, as optim.SGD)."""
    from matgrad import blas, memory
    from matgrad.ops.activation import ReLU, Sigmoid
    from matgrad.ops.linear import Linear
    from matgrad.ops.loss import BinaryCrossEntropy
    from matgrad.tensor import Tensor

    params = [memory.copy(a) for a in (p.w1, p.b1, p.w2, p.b2)]
    w1, b1, w2, b2 = params
    velocity: list[Any] = [None] * 4
    make = Tensor._make

    def op(cls: type, *arrays: np.ndarray, needs: tuple[bool, ...]) -> Any:
        fn = cls.__new__(cls)
        fn.parents, fn.needs_input_grad, fn.seq = tuple(make(a, None, False) for a in arrays), needs, 1 << 62
        return fn

    def step(x: np.ndarray, y: np.ndarray) -> Any:
        layer1 = op(Linear, x, w1, b1, needs=(False, True, True))
        h = layer1.forward(x, w1, b1)
        relu = op(ReLU, h, needs=(True,))
        relu.out = a = relu.forward(h)
        layer2 = op(Linear, a, w2, b2, needs=(True, True, True))
        z = layer2.forward(a, w2, b2)
        sigmoid = op(Sigmoid, z, needs=(True,))
        sigmoid.out = prob = sigmoid.forward(z)
        bce = op(BinaryCrossEntropy, prob, y, needs=(True, False))
        loss = bce.forward(prob, y, weight=None, reduction="mean", denom=prob.size)
        dprob = bce.backward(np.ones((), loss.dtype))[0]
        da, dw2, db2 = layer2.backward(sigmoid.backward(dprob))
        _, dw1, db1 = layer1.backward(relu.backward(da))
        for i, (w, g) in enumerate(zip(params, (dw1, db1, dw2, db2))):
            if velocity[i] is None:  # SGD's first step: the buffer is the gradient
                velocity[i] = memory.copy(g)
                blas.axpy(-LR, velocity[i], w)
            else:
                blas.axpby_axpy(1.0, g, MOMENTUM, velocity[i], -LR, w)
        return loss

    def reset() -> None:
        for w, v, start in zip(params, velocity, (p.w1, p.b1, p.w2, p.b2)):
            w[...] = start
            if v is not None:  # 0.9·0 + g = g: as the first step's copy
                v[...] = 0

    return _with_reset(step, reset)


def mygrad_step(spec: Spec, p: Problem) -> StepFn:
    """The step in MyGrad, as its user writes it: weights in×out (x @ W), float32 throughout.

    BCE is built from mygrad ops, log(p + ε) as the hand-written step does; the constants are
    np.float32, since a Python scalar would promote MyGrad's arrays to float64.
    """
    import mygrad as mg
    from mygrad.nnet import relu, sigmoid

    params = [mg.tensor(a) for a in (p.w1.T.copy(), p.b1, p.w2.T.copy(), p.b2)]
    w1, b1, w2, b2 = params
    velocity = [np.zeros_like(w.array) for w in params]
    eps, one, lr, mom = np.float32(1e-12), np.float32(1), np.float32(LR), np.float32(MOMENTUM)

    def step(x: np.ndarray, y: np.ndarray) -> object:
        prob = sigmoid(mg.matmul(relu(mg.matmul(x, w1) + b1), w2) + b2)
        loss = -mg.mean(y * mg.log(prob + eps) + (one - y) * mg.log(one - prob + eps))
        loss.backward()
        for w, v in zip(params, velocity):
            v *= mom
            v += w.grad
            w.array -= lr * v
        return loss

    def reset() -> None:
        for w, v, start in zip(params, velocity, (p.w1.T, p.b1, p.w2.T, p.b2)):
            w.array[...] = start
            v[...] = 0

    return _with_reset(step, reset)


def floor_step(spec: Spec, p: Problem) -> StepFn:
    """Only the five matrix products of a step: the least any implementation must do."""
    w1, w2 = p.w1.T.copy(), p.w2.T.copy()
    h = np.maximum(p.xs[0] @ w1, 0)
    dz = np.full((spec.batch, spec.sizes[2]), 1e-3, np.float32)

    def step(x: np.ndarray, y: np.ndarray) -> None:
        x @ w1  # forward, layer 1
        h @ w2  # forward, layer 2
        h.T @ dz  # dW2
        dh = dz @ w2.T  # dH
        x.T @ dh  # dW1

    return step


def make_step(lib: str, spec: Spec, p: Problem, threads: int) -> StepFn:
    """The step(x, y) of one implementation: matgrad, torch, captured, mygrad, numpy, tuned, same, ops or floor."""
    if lib in ("matgrad", "torch"):
        return user_step(lib, spec, p, threads)
    return {"captured": captured_step, "mygrad": mygrad_step, "numpy": numpy_step, "tuned": tuned_step,
            "same": same_step, "ops": ops_step, "floor": floor_step}[lib](spec, p)


def first_losses(spec: Spec, threads: int,
                 libs: tuple[str, ...] = ("matgrad", "captured", "torch", "mygrad", "numpy", "tuned", "same", "ops"),
                 steps: int = 2) -> dict[str, list[float]]:
    """The loss of the first `steps` steps of each installed implementation, from the same
    weights on the same batches: equal losses mean they do the same arithmetic (the second
    step's loss checks the first's momentum update too)."""
    p = make_problem(spec)
    out = {}
    for lib in libs:
        try:
            step = make_step(lib, spec, p, threads)
        except ImportError:
            continue
        out[lib] = [step(p.xs[i], p.ys[i]).item() for i in range(steps)]  # type: ignore[union-attr]
    return out


def implementations(spec: Spec, threads: int) -> dict[str, Callable[[], None]]:
    """Every step that can run here, by name, each cycling through the shared batches;
    a library that is not installed is left out (and said so)."""
    p = make_problem(spec)
    steps: dict[str, Callable[[], None]] = {}
    for lib in ("matgrad", "captured", "torch", "mygrad", "numpy", "tuned", "same", "ops", "floor"):
        try:
            steps[lib] = _cycler(make_step(lib, spec, p, threads), p)
        except ImportError:
            print(f"  ({lib} is not installed: its column is left out)")
    return steps
