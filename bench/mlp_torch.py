#!/usr/bin/env python3
"""The `mlp` family's training loop written in PyTorch, to time an epoch against ours (`./cis490 bench mlp` runs both).

Same data (the x_train/y_train/x_val/y_val .npy files the bench exports from the features folder, the train command's
split and mode), same encoding (z-score on the training split's observed values, NaN -> 0, one missingness flag per
feature), same network (Linear -> ReLU -> Dropout, `layers` times, then Linear), same loss (cross-entropy with
inverse-frequency class weights, scikit-learn's "balanced", clipped), same optimizer (AdamW, betas 0.9/0.999, eps 1e-8,
linear warm-up over 5 % of the steps then cosine decay to 0), same batch size and shuffling per epoch, and an epoch is
the training steps plus the validation scoring (softmax in batches, macro F1), as in Training/Neural/NeuralTrainer.cs.

Prints one JSON object: torch's version and build configuration, the BLAS library actually mapped into this process
(Debian's python3-torch calls libblas.so.3, which is whatever the alternatives system points at: OpenBLAS when
libopenblas0-pthread is installed, else the slow reference BLAS), the threads, each epoch's seconds and validation F1.
"""
import argparse
import json
import math
import os
import re
import time

import numpy as np
import torch
import torch.nn.functional as F


def encode(x, mean, std):
    missing = np.isnan(x)
    z = np.where(missing, np.float32(0), (x - mean) / std).astype(np.float32)
    return np.concatenate([z, missing.astype(np.float32)], axis=1)


def norm_stats(x):
    mean = np.zeros(x.shape[1], np.float32)
    std = np.ones(x.shape[1], np.float32)
    for f in range(x.shape[1]):
        v = x[:, f][~np.isnan(x[:, f])].astype(np.float64)
        if len(v) == 0:
            continue
        m = v.mean()
        sd = math.sqrt(((v - m) ** 2).sum() / len(v)) if len(v) > 1 else 0.0
        mean[f] = m
        std[f] = sd if sd > 1e-6 else 1.0
    return mean, std


def class_weights(y, classes, clip):
    counts = np.bincount(y, minlength=classes)
    present = int((counts > 0).sum())
    return np.array([1.0 if n == 0 else min(clip, len(y) / (present * n)) for n in counts], np.float32)


def learning_rate(step, total, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    if total <= warmup:
        return peak
    progress = min(1.0, (step - warmup) / (total - warmup))
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def macro_f1(y, pred, classes):
    scores = []
    for c in range(classes):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else float("nan")


def mapped_blas():
    """The BLAS/LAPACK shared objects this process has mapped (after a matrix product has run)."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name or "mkl" in name:
                found.add(os.path.realpath(path))
    return sorted(found)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder with x_train.npy, y_train.npy, x_val.npy, y_val.npy")
    p.add_argument("--classes", type=int, required=True)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--class-weight-clip", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=490)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    x_train = np.load(os.path.join(a.data, "x_train.npy"))
    y_train = np.load(os.path.join(a.data, "y_train.npy")).astype(np.int64)
    x_val = np.load(os.path.join(a.data, "x_val.npy"))
    y_val = np.load(os.path.join(a.data, "y_val.npy")).astype(np.int64)
    mean, std = norm_stats(x_train)
    train, val = encode(x_train, mean, std), encode(x_val, mean, std)

    blocks = []
    width = train.shape[1]
    for i in range(a.layers):
        blocks += [torch.nn.Linear(width if i == 0 else a.hidden, a.hidden), torch.nn.ReLU(), torch.nn.Dropout(a.dropout)]
    net = torch.nn.Sequential(*blocks, torch.nn.Linear(a.hidden, a.classes))
    weights = torch.from_numpy(class_weights(y_train, a.classes, a.class_weight_clip))
    optimizer = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps_per_epoch = (len(y_train) + a.batch_size - 1) // a.batch_size
    total = steps_per_epoch * a.epochs
    warmup = max(1, math.ceil(total * 0.05))

    step = 0
    epoch_seconds, val_f1, train_loss = [], [], []
    for _ in range(a.epochs):
        start = time.perf_counter()
        net.train()
        order = rng.permutation(len(y_train))
        loss_sum = 0.0
        for b in range(0, len(order), a.batch_size):
            rows = order[b:b + a.batch_size]
            x = torch.from_numpy(train[rows])
            y = torch.from_numpy(y_train[rows])
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total, warmup, a.lr)
            step += 1
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x), y, weight=weights)
            value = loss.item()
            loss.backward()
            optimizer.step()
            loss_sum += value * len(rows)
        net.eval()
        with torch.no_grad():
            proba = [F.softmax(net(torch.from_numpy(val[b:b + a.batch_size])), 1) for b in range(0, len(val), a.batch_size)]
        pred = torch.cat(proba).argmax(1).numpy()
        val_f1.append(macro_f1(y_val, pred, a.classes))
        train_loss.append(loss_sum / len(y_train))
        epoch_seconds.append(time.perf_counter() - start)

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas_mapped": mapped_blas(),
        "blas_build": re.findall(r"(?:BLAS_INFO|LAPACK_INFO|USE_MKLDNN)=[^,]*|CPU capability usage: \w+", torch.__config__.show()),
        "train_rows": int(len(y_train)),
        "val_rows": int(len(y_val)),
        "inputs": int(width),
        "epoch_seconds": epoch_seconds,
        "val_macro_f1": val_f1,
        "train_loss": train_loss,
    }))


if __name__ == "__main__":
    main()
