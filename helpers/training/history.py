"""The per-epoch record of a training run, as :func:`helpers.training.loop.fit` returns it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch results of :func:`fit` (``seconds`` is the elapsed training time so far)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = ["epoch  train loss  train acc  val loss  val acc  seconds"]
        for i, e in enumerate(self.epoch):
            vl = f"{self.val_loss[i]:8.4f}" if self.val_loss else "       -"
            va = f"{self.val_acc[i]:7.2%}" if self.val_acc else "      -"
            lines.append(f"{e:5d}  {self.train_loss[i]:10.4f}  {self.train_acc[i]:9.2%}  {vl}  {va}  "
                         f"{self.seconds[i]:7.1f}")
        return "\n".join(lines)
