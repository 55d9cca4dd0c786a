"""Defining new autograd Functions, after "Learning PyTorch with Examples": a Legendre polynomial
that knows its own derivative, fitted to sin(x); plus the docs' LinearFunction."""
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 1/2 (5x^3 - 3x)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


torch.manual_seed(0)
dtype = torch.float

# The derivative is the one written in backward.
t = torch.linspace(-1, 1, 7, requires_grad=True)
LegendrePolynomial3.apply(t).sum().backward()
assert torch.allclose(t.grad, 1.5 * (5 * t.detach() ** 2 - 1), atol=1e-5)

# Fit y = sin(x) with y = a + b * P3(c + d * x).
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
first = None
for t in range(1000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    if first is None:
        first = loss.item()
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f"Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)")
assert loss.item() < 0.2 * first, (first, loss.item())
assert loss.item() < 50

# The docs' LinearFunction gives the same values and gradients as the built-in linear layer.
inp = torch.randn(8, 5, dtype=torch.double, requires_grad=True)
weight = torch.randn(3, 5, dtype=torch.double, requires_grad=True)
bias = torch.randn(3, dtype=torch.double, requires_grad=True)
out = LinearFunction.apply(inp, weight, bias)
ref = torch.nn.functional.linear(inp, weight, bias)
assert torch.allclose(out, ref)
g_custom = torch.autograd.grad(out.pow(2).sum(), (inp, weight, bias))
g_ref = torch.autograd.grad(ref.pow(2).sum(), (inp, weight, bias))
for g1, g2 in zip(g_custom, g_ref):
    assert torch.allclose(g1, g2)

# Only the inputs that need a gradient get one asked for.
frozen = torch.randn(3, 5, dtype=torch.double)
out = LinearFunction.apply(inp, frozen)
out.sum().backward()
assert frozen.grad is None
assert torch.allclose(inp.grad, torch.ones(8, 3, dtype=torch.double).mm(frozen))
print("custom function: ok")
