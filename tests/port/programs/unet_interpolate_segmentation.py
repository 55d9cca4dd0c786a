"""A small U-Net-style net for a toy segmentation task: a conv encoder that downsamples with
max-pooling, a decoder that upsamples with F.interpolate (bilinear, align_corners=False and True,
and nearest), skip connections by torch.cat, and per-pixel BCEWithLogitsLoss."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
size = 16


def make_batch(n):
    """Images of noise with one bright square; the mask marks the square."""
    images = 0.3 * torch.randn(n, 1, size, size)
    masks = torch.zeros(n, 1, size, size)
    for i in range(n):
        r, c = torch.randint(0, size - 6, (2,)).tolist()
        s = int(torch.randint(4, 7, (1,)))
        images[i, :, r:r + s, c:c + s] += 1.0
        masks[i, :, r:r + s, c:c + s] = 1.0
    return images, masks


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU())


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = block(1, 8)
        self.enc2 = block(8, 16)
        self.bottom = block(16, 16)
        self.dec2 = block(32, 8)
        self.dec1 = block(16, 8)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)                       # 16x16
        e2 = self.enc2(F.max_pool2d(e1, 2))     # 8x8
        b = self.bottom(F.max_pool2d(e2, 2))    # 4x4
        up2 = F.interpolate(b, scale_factor=2, mode="bilinear", align_corners=False)
        d2 = self.dec2(torch.cat([up2, e2], dim=1))
        up1 = F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=True)
        d1 = self.dec1(torch.cat([up1, e1], dim=1))
        return self.head(d1)


# The interpolation modes on a known input.
x = torch.arange(4.0).reshape(1, 1, 2, 2)
nearest = F.interpolate(x, scale_factor=2, mode="nearest")
assert torch.equal(nearest[0, 0], torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]))
corners = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
assert torch.allclose(corners[0, 0], torch.tensor([[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]))
half = F.interpolate(x, size=(4, 4), mode="bilinear", align_corners=False)
assert torch.allclose(half[0, 0, 0], torch.tensor([0.0, 0.25, 0.75, 1.0]))
assert torch.allclose(half[0, 0, :, 0], torch.tensor([0.0, 0.5, 1.5, 2.0]))

model = TinyUNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.BCEWithLogitsLoss()
images, masks = make_batch(16)
assert model(images).shape == masks.shape

losses = []
for step in range(80):
    optimizer.zero_grad()
    loss = criterion(model(images), masks)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print("loss", losses[0], "->", losses[-1])
assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])

model.eval()
with torch.no_grad():
    test_images, test_masks = make_batch(16)
    pred = (model(test_images) > 0).float()
    accuracy = (pred == test_masks).float().mean().item()
print("pixel accuracy", accuracy)
assert accuracy > 0.9
