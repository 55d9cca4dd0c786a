"""Build the neural network: the tutorial's NeuralNetwork, its layers one by one, and its parameters."""
import torch
from torch import nn

torch.manual_seed(0)
device = "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

X = torch.rand(1, 28, 28, device=device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
assert logits.shape == (1, 10)
assert torch.allclose(pred_probab.sum(dim=1), torch.ones(1))
assert 0 <= y_pred.item() < 10

# The layers one at a time.
input_image = torch.rand(3, 28, 28)
flatten = nn.Flatten()
flat_image = flatten(input_image)
assert flat_image.size() == torch.Size([3, 784])

layer1 = nn.Linear(in_features=28 * 28, out_features=20)
hidden1 = layer1(flat_image)
assert hidden1.size() == (3, 20)
assert torch.allclose(hidden1, flat_image @ layer1.weight.T + layer1.bias, atol=1e-5)

hidden1 = nn.ReLU()(hidden1)
assert (hidden1 >= 0).all()

seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)
assert pred_probab.shape == (3, 10)

# Model parameters.
names = []
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    names.append(name)
assert names == [
    "linear_relu_stack.0.weight", "linear_relu_stack.0.bias",
    "linear_relu_stack.2.weight", "linear_relu_stack.2.bias",
    "linear_relu_stack.4.weight", "linear_relu_stack.4.bias",
]
total = sum(p.numel() for p in model.parameters())
assert total == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
assert all(p.requires_grad for p in model.parameters())
assert isinstance(model.linear_relu_stack[0], nn.Linear)
assert len(model.linear_relu_stack) == 5
# Default init: uniform in +-1/sqrt(fan_in).
bound = 1 / 28.0
assert model.linear_relu_stack[0].weight.abs().max().item() <= bound + 1e-6
print("nn basics: ok")
