"""The image network: Pasquet et al. (2019)-style inception blocks, sized for two CPU cores.

Pasquet et al. (2019, A&A 621, A26) feed 64x64 ugriz stamps to a convolution, five inception
blocks (parallel 1x1, 3x3 and 5x5 convolutions and a pooled branch, concatenated) with
pooling in between, then dense layers and a softmax over 180 redshift bins; E(B-V) enters as a
scalar before the dense layers. This version keeps that shape with fewer and narrower blocks
(the defaults train an epoch over 30,000 5x32x32 stamps in about a minute on two cores) and
concatenates optional scalar inputs (e.g. colours) before the dense layers in the same way.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Inception", "ImageRepresentation", "dihedral"]


class Inception(nn.Module):
    """Four parallel branches, concatenated: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 avg-pool -> 1x1.

    Each branch has ``width`` output channels, so the block outputs ``4 * width``.
    """

    def __init__(self, c_in: int, width: int) -> None:
        super().__init__()
        w = int(width)
        self.b1 = nn.Conv2d(c_in, w, 1)
        self.b3 = nn.Sequential(nn.Conv2d(c_in, w, 1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(c_in, w, 1), nn.ReLU(), nn.Conv2d(w, w, 5, padding=2))
        self.bp = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(c_in, w, 1))
        self.act = nn.ReLU()
        self.out_channels = 4 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1))


def dihedral(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each stamp of ``x`` (n, c, h, w) turned by a random element of the dihedral group D4
    (a 90-degree rotation, optionally after a flip): a galaxy's redshift does not depend on
    its orientation on the sky."""
    k = torch.randint(0, 4, (x.shape[0],), generator=generator)
    flip = torch.randint(0, 2, (x.shape[0],), generator=generator)
    out = x.clone()
    for f in (0, 1):
        for r in range(4):
            rows = torch.nonzero((k == r) & (flip == f)).flatten()
            if len(rows):
                block = x[rows].flip(-1) if f else x[rows]
                out[rows] = torch.rot90(block, r, dims=(-2, -1))
    return out


class ImageRepresentation(nn.Module):
    """Flattened (stamp, scalars) rows -> embedding.

    Input rows hold ``bands * size * size`` asinh-scaled pixels followed by ``n_scalars``
    standardised scalars (one tensor, so the shared inference helpers apply unchanged).

    Parameters
    ----------
    n_bands, size : int
        Stamp shape (size must be divisible by 4).
    widths : tuple of int
        Branch width of each inception block; a 2x2 average pooling precedes the first two.
    hidden : tuple of int
        Dense layers after the flattened 4x4-pooled features (+ scalars); the last is the
        embedding size.
    n_scalars : int
    augment : bool
        Random D4 turns of the stamps in training mode (from ``generator``, set by the
        estimator before training; eval mode never augments).
    """

    def __init__(
        self,
        n_bands: int,
        size: int,
        widths: tuple[int, ...],
        hidden: tuple[int, ...],
        n_scalars: int,
        augment: bool,
    ) -> None:
        super().__init__()
        self.n_bands, self.size, self.n_scalars = int(n_bands), int(size), int(n_scalars)
        self.augment = bool(augment)
        self.generator: torch.Generator | None = None
        # Stem at full resolution, then pooling before each of the first two inception
        # blocks: the 5x5 branches are what costs, so they run at 1/2 and 1/4 resolution.
        layers: list[nn.Module] = [nn.Conv2d(self.n_bands, 16, 3, padding=1), nn.ReLU()]
        c = 16
        for i, w in enumerate(widths):
            if i < 2:
                layers.append(nn.AvgPool2d(2))
            block = Inception(c, int(w))
            layers.append(block)
            c = block.out_channels
        layers.append(nn.AdaptiveAvgPool2d(4))
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        width = c * 16 + self.n_scalars
        dense: list[nn.Module] = []
        for h in hidden:
            dense += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.dense = nn.Sequential(*dense)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_pix = self.n_bands * self.size * self.size
        images = x[:, :n_pix].reshape(-1, self.n_bands, self.size, self.size)
        if self.training and self.augment and self.generator is not None:
            images = dihedral(images, self.generator)
        h = self.features(images)
        if self.n_scalars:
            h = torch.cat([h, x[:, n_pix:]], dim=1)
        return self.dense(h)

    def init_parameters(self, generator: torch.Generator) -> None:
        """Kaiming-uniform weights (PyTorch's default scheme) from ``generator``."""
        import math

        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                bound = 1.0 / math.sqrt(m.weight[0].numel())
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
