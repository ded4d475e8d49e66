"""The magnitude-factorised output module of Lin et al. (2022).

K redshift heads, each a linear layer from the embedding to bin logits, and a K-way magnitude
head. The PDF is the mixture sum_k p(k | x) softmax_k(x): each head specialises on galaxies of
similar brightness (whose redshift distributions differ), which is what lets the bias
correction rebalance them separately.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MagnitudeFactorisedHead", "FactorisedLoss"]


class MagnitudeFactorisedHead(nn.Module):
    """Embedding -> (n, K * n_bins + K): K blocks of bin logits, then K magnitude logits.

    One wide linear layer holds the K redshift heads (K matrix products in one), so the
    output is a plain tensor the shared training loop and inference code handle unchanged.
    """

    def __init__(self, n_embed: int, n_bins: int, n_heads: int) -> None:
        super().__init__()
        self.n_bins, self.n_heads = int(n_bins), int(n_heads)
        self.z_heads = nn.Linear(n_embed, self.n_heads * self.n_bins)
        self.mag_head = nn.Linear(n_embed, self.n_heads)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.z_heads(h), self.mag_head(h)], dim=1)

    def split(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z logits (n, K, n_bins), magnitude logits (n, K)) of a forward output."""
        kb = self.n_heads * self.n_bins
        return out[:, :kb].reshape(-1, self.n_heads, self.n_bins), out[:, kb:]

    def mixture(self, out: torch.Tensor) -> torch.Tensor:
        """The PDF sum_k p(k) p(z | k) per row, (n, n_bins), in float64."""
        z_logits, m_logits = self.split(out.double())
        return (torch.softmax(m_logits, 1)[:, :, None] * torch.softmax(z_logits, 2)).sum(1)


class FactorisedLoss:
    """Cross-entropy of the magnitude head plus that of every redshift head.

    Target rows end with the galaxy's magnitude cell. A galaxy's redshift label trains the
    heads its cell belongs to (``membership``: its own head and, at a border cell, the next);
    every other head gets a uniform target, as in the authors' code, so a head stays
    non-committal outside its magnitude range.

    Parameters
    ----------
    membership : torch.Tensor, shape (n_cells, K), bool
        Which heads each magnitude cell trains.
    cell_head : torch.Tensor, shape (n_cells,), int64
        The magnitude head's label of each cell.
    z_loss : ClassificationLoss, optional
        Turns target rows ``(z, cell)`` into label rows (hard or Gaussian). Without it, target
        rows are ``(label_1 .. label_n_bins, cell)``: ready-made (e.g. soft, shifted) labels.
    weighted : bool
        Target rows carry a per-galaxy weight just before the cell (``(..., weight, cell)``),
        and the loss is the weighted mean (zphot debias's flat distribution by weights).
    """

    def __init__(
        self,
        membership: torch.Tensor,
        cell_head: torch.Tensor,
        z_loss=None,  # noqa: ANN001
        weighted: bool = False,
    ) -> None:
        self.membership = membership
        self.cell_head = cell_head
        self.z_loss = z_loss
        self.weighted = weighted

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n_heads = self.membership.shape[1]
        n_bins = (out.shape[1] - n_heads) // n_heads
        z_logits = out[:, : n_heads * n_bins].reshape(-1, n_heads, n_bins)
        m_logits = out[:, n_heads * n_bins :]
        cell = target[:, -1].long()
        end = -2 if self.weighted else -1  # the label columns stop before (weight,) cell
        if self.z_loss is None:
            label = target[:, :end]
        elif self.z_loss.label_width == 0.0:
            label = nn.functional.one_hot(self.z_loss.bins(target[:, 0]), n_bins).to(out.dtype)
        else:
            label = self.z_loss.targets(target[:, 0])
        logp = torch.log_softmax(z_logits, dim=2)
        member = self.membership[cell].to(logp.dtype)  # (n, K)
        own = -(label[:, None, :] * logp).sum(2)  # (n, K)
        uniform = -logp.mean(2)
        z_ce = (member * own + (1 - member) * uniform).mean(1)
        m_ce = nn.functional.cross_entropy(m_logits, self.cell_head[cell], reduction="none")
        if self.weighted:
            weight = target[:, -2]
            return (weight * (z_ce + m_ce)).sum() / weight.sum().clamp_min(1e-12)
        return (z_ce + m_ce).mean()
