"""Module hooks: grab intermediate activations with register_forward_hook (feature extraction),
rewrite inputs with register_forward_pre_hook, and remove hooks through their handles."""
import torch
import torch.nn as nn

torch.manual_seed(0)

model = nn.Sequential(
    nn.Linear(10, 20),
    nn.ReLU(),
    nn.Linear(20, 20),
    nn.ReLU(),
    nn.Linear(20, 3),
)

activation = {}


def get_activation(name):
    def hook(model, input, output):
        activation[name] = output.detach()
    return hook


handles = [
    model[1].register_forward_hook(get_activation("relu1")),
    model[3].register_forward_hook(get_activation("relu2")),
]
x = torch.randn(4, 10)
out = model(x)
assert activation["relu1"].shape == (4, 20) and activation["relu2"].shape == (4, 20)
assert torch.allclose(activation["relu1"], torch.relu(model[0](x)))
assert torch.allclose(model[4](activation["relu2"]), out, atol=1e-6)
assert not activation["relu1"].requires_grad

for handle in handles:
    handle.remove()
activation.clear()
model(x)
assert activation == {}

# A forward hook that returns a value replaces the module's output.
handle = model[4].register_forward_hook(lambda module, inp, output: output * 0)
assert model(x).abs().sum().item() == 0
handle.remove()

# A pre-hook sees the inputs as a tuple and may replace them.
calls = []


def scale_input(module, inputs):
    calls.append(inputs[0].shape)
    return (inputs[0] * 2,)


handle = model[0].register_forward_pre_hook(scale_input)
doubled = model(x)
handle.remove()
assert calls == [torch.Size([4, 10])]
assert torch.allclose(doubled, model(2 * x))


# Counting calls on every submodule, named.
class Counter:
    def __init__(self):
        self.counts = {}

    def __call__(self, name):
        def hook(module, inputs, output):
            self.counts[name] = self.counts.get(name, 0) + 1
        return hook


counter = Counter()
handles = [m.register_forward_hook(counter(n)) for n, m in model.named_modules() if n]
for _ in range(3):
    model(x)
assert counter.counts == {str(i): 3 for i in range(5)}
for h in handles:
    h.remove()

# Hooks still let gradients through the hooked output.
feats = []
handle = model[1].register_forward_hook(lambda m, i, o: feats.append(o))
loss = model(x).sum()
loss.backward()
assert feats[0].requires_grad and model[0].weight.grad is not None
handle.remove()
print("module hooks: ok")
