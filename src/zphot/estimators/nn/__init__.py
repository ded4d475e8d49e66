"""Shared torch machinery of the network estimators: members, heads, training loop."""

from .network import BinHead, GaussianHead, Member, TorchEstimator, init_parameters
from .train import ClassificationLoss, GaussianNLLLoss, TrainSettings, forward_rows, train_network

__all__ = [
    "BinHead",
    "ClassificationLoss",
    "GaussianHead",
    "GaussianNLLLoss",
    "Member",
    "TorchEstimator",
    "TrainSettings",
    "forward_rows",
    "init_parameters",
    "train_network",
]
