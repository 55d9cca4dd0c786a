"""Checking a hand-written backward with torch.autograd.gradcheck and gradgradcheck, as the
"Extending PyTorch" notes recommend, on double-precision inputs."""
import torch
from torch.autograd import Function, gradcheck, gradgradcheck


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class Softplus(Function):
    """log(1 + exp(x)), its derivative the sigmoid."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


class BadSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * x  # wrong: should be 2x


torch.manual_seed(0)
inp = torch.randn(6, 3, dtype=torch.double, requires_grad=True)
assert gradcheck(MulConstant.apply, (inp, 3.5), eps=1e-6, atol=1e-4)
assert gradcheck(Softplus.apply, (inp,), eps=1e-6, atol=1e-4)
# The backward is written with differentiable ops, so second derivatives work too.
assert gradgradcheck(Softplus.apply, (inp,))

ok = gradcheck(BadSquare.apply, (inp,), eps=1e-6, atol=1e-4, raise_exception=False)
assert ok is False
try:
    gradcheck(BadSquare.apply, (inp,), eps=1e-6, atol=1e-4)
    raise AssertionError("gradcheck should have raised")
except RuntimeError as err:
    print("gradcheck caught the wrong backward:", str(err).splitlines()[0])

# Second derivative of softplus through the custom backward: sigmoid'(x) = s (1 - s).
x = torch.tensor([0.0, 1.0, -2.0], dtype=torch.double, requires_grad=True)
g, = torch.autograd.grad(Softplus.apply(x).sum(), x, create_graph=True)
gg, = torch.autograd.grad(g.sum(), x)
s = torch.sigmoid(x.detach())
assert torch.allclose(gg, s * (1 - s))
print("gradcheck: ok")
