"""Data-parallel training: the sampler, the set-up errors, and real process groups on this CPU (Gloo,
127.0.0.1 only). The model of the equality test has no BatchNorm on purpose: BatchNorm normalises each
process's part of the batch with that part's own statistics, so its forward pass -- and the weights --
would differ from one process seeing the whole batch (SyncBatchNorm, on GPUs, would share them)."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from helpers.models.classic import CifarCNN
from helpers.training.checkpoints import load_checkpoint
from helpers.training.distributed import fit_distributed, launch, main, torchrun_command
from helpers.training.loop import fit
from helpers.training.processes import SetupError, Shard, backend_for, process_group

# 37 examples in global batches of 16: 16, 16 and a last batch of 5, split 3 + 2 between two processes
SETTINGS = dict(epochs=2, batch_size=16, lr=1e-2, weight_decay=0.01, progress=False)
RENDEZVOUS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10))


def _tiny_data(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (n,), generator=g))


def test_each_process_takes_its_part_of_every_global_batch_and_the_parts_make_the_batch():
    idx = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    values = torch.rand(11, dtype=torch.float64)
    for world in (1, 2, 3, 4):
        parts = [Shard(rank, world).split(idx) for rank in range(world)]
        assert torch.equal(torch.cat([p for p, _ in parts]), idx)
        assert max(len(p) for p, _ in parts) - min(len(p) for p, _ in parts) <= 1
        # DistributedDataParallel averages the processes' gradients: with the shares, that average is
        # the mean over the whole batch (shown here on plain numbers instead of gradients)
        average = sum(share * values[p].mean() for p, share in parts) / world
        assert torch.isclose(average, values[idx].mean())
    assert Shard(0, 2).split(idx[:10])[1] == 1.0  # equal parts: the loss is used as it is


def test_an_epoch_drops_only_a_last_batch_too_small_to_share():
    assert Shard(0, 1).plan(37, 16) == (3, 37)  # one process: every batch, as fit
    assert Shard(0, 2).plan(37, 16) == (3, 37)  # the last batch of 5 is split 3 + 2
    assert Shard(1, 4).plan(34, 16) == (2, 32)  # a last batch of 2 cannot feed 4 processes
    assert Shard(0, 2).plan(5, 16) == (1, 5)    # a batch larger than the data set, as in fit


def test_bad_setups_raise_errors_that_say_what_to_do():
    with pytest.raises(ValueError, match=r"batch_size=15 is the global batch.*multiple of 2: try 14 or 16"):
        Shard(0, 2).plan(100, 15)
    with pytest.raises(ValueError, match=r"3 examples, fewer than the 4 processes"):
        Shard(0, 4).plan(3, 4)
    with pytest.raises(ValueError, match="0 <= rank < world_size"):
        Shard(2, 2)
    assert backend_for("cpu") == "gloo" and backend_for("cuda:1") == "nccl"


def test_each_process_augments_with_its_own_seed_and_the_same_one_every_run():
    seeds = [Shard(rank, 4).seed(0) for rank in range(4)]
    assert len(set(seeds)) == 4 and seeds == [Shard(rank, 4).seed(0) for rank in range(4)]
    assert Shard(0, 4).seed(1) != seeds[0]
    assert Shard(0, 1).seed(7) == 7  # alone: fit's own seed


@pytest.mark.parametrize("env, named", [({"WORLD_SIZE": "2"}, "RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT"),
                                        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, "MASTER_ADDR")])
def test_outside_torchrun_a_world_of_several_names_the_missing_variables(monkeypatch, env, named):
    for variable in RENDEZVOUS:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SetupError, match=named), process_group("cpu"):
        pass
    with pytest.raises(SystemExit) as exit_:  # the entry point: one line, no traceback
        main(["--epochs", "1"])
    assert "error:" in str(exit_.value.code) and named in str(exit_.value.code) and "torchrun" in str(exit_.value.code)
    assert not dist.is_initialized()
    with pytest.raises(SetupError, match="inside a process group"):
        fit_distributed(_tiny_model(), _tiny_data(8), epochs=1)


def test_one_process_alone_trains_exactly_as_fit(monkeypatch):
    for variable in RENDEZVOUS:
        monkeypatch.delenv(variable, raising=False)
    data = _tiny_data(37)
    settings = dict(SETTINGS, augment=("flip", "crop"), seed=3)
    alone = _tiny_model()
    expected = fit(alone, data, **settings)
    with process_group("cpu") as shard:
        assert (shard.rank, shard.world_size) == (0, 1)
        model = _tiny_model()
        history = fit_distributed(model, data, **settings)
    assert not dist.is_initialized()
    for name, value in alone.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name
    assert history.train_loss == expected.train_loss and history.settings["world_size"] == 1


def _worker(rank: int, world: int, port: int, folder: str) -> None:
    """One process of the equality test: what torchrun would start, here forked from the test."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    with process_group("cpu") as shard:
        with pytest.raises(ValueError, match="batch_size=15 is the global batch"):  # refused in every process
            fit_distributed(_tiny_model(), _tiny_data(37), **dict(SETTINGS, batch_size=15))
        model = _tiny_model()
        history = fit_distributed(model, _tiny_data(37), _tiny_data(20, seed=2), **SETTINGS)
    torch.save({"state": model.state_dict(), "history": history.to_dict()}, f"{folder}/rank{shard.rank}.pt")


def test_two_processes_end_with_the_weights_of_one_process_on_the_whole_batch(tmp_path, monkeypatch):
    for variable in RENDEZVOUS:
        monkeypatch.delenv(variable, raising=False)
    with socket.socket() as s:  # a free port on 127.0.0.1 for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # forked, not spawned: the processes start in a moment, without importing torch again
    mp.start_processes(_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True, start_method="fork")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    single = _tiny_model()
    expected = fit(single, _tiny_data(37), _tiny_data(20, seed=2), **SETTINGS)
    for name, value in single.state_dict().items():
        assert torch.equal(ranks[0]["state"][name], ranks[1]["state"][name]), name  # one model, in step
        torch.testing.assert_close(ranks[0]["state"][name], value, rtol=1e-5, atol=1e-6)  # = one process
    h0, h1 = (r["history"] for r in ranks)
    assert {k: v for k, v in h0.items() if k != "seconds"} == {k: v for k, v in h1.items() if k != "seconds"}
    assert h0["settings"]["world_size"] == 2 and h0["settings"]["batch_per_process"] == 8
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert h0[key] == pytest.approx(getattr(expected, key), rel=1e-5), key


def test_a_short_torchrun_job_checkpoints_once_and_every_rank_reports_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_BOOK_MODE", "quick")  # no CIFAR-10 in the empty data folder: the stand-in
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    checkpoint = tmp_path / "ddp.pt"
    run = launch(2, ["--epochs", "1", "--train-size", "40", "--val-size", "20", "--batch-size", "16",
                     "--checkpoint", checkpoint, "--no-progress"], threads=1, timeout=300)
    assert run.command.startswith("torchrun --standalone --nproc_per_node=2 -m helpers.training.distributed")
    assert run.output.count("saved") == 1 and "rank 0 saved" in run.output  # only rank 0 prints and saves
    assert run.output.count("STAND-IN") == 2  # one banner per split, from rank 0 alone
    metadata = load_checkpoint(checkpoint, CifarCNN())
    assert metadata["settings"]["world_size"] == 2
    h0, h1 = run.histories
    assert (h0.train_loss, h0.train_acc, h0.val_loss, h0.val_acc) == (h1.train_loss, h1.train_acc, h1.val_loss,
                                                                      h1.val_acc)
    assert metadata["val_accuracy"] == h0.val_acc[-1]
    assert torchrun_command(2)[-3:] == ["--nproc_per_node=2", "-m", "helpers.training.distributed"]


def test_a_failed_jobs_error_names_the_cause_before_torchruns_summary():
    from helpers.training.distributed import error_lines

    summary = [f"torchrun summary line {i}" for i in range(15)]
    aborted = ["[rank1]: starting", "terminate called after throwing an instance of 'gloo::IoException'",
               "  what():  [gloo/transport/tcp/pair.cc:598] Connection closed by peer", "[rank0]: epoch 1"]
    said = error_lines("\n".join(aborted + summary))
    assert said == [aborted[1], aborted[2], *summary]
    python = ["Traceback (most recent call last):", '  File "x.py", line 1', "ValueError: bad batch size"]
    assert error_lines("\n".join(python + summary))[0] == "ValueError: bad batch size"
    ours = "helpers.training.distributed: error: --epochs must be at least 1"
    assert error_lines("\n".join(python + [ours] + summary + [ours])) == [ours]
