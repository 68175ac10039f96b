"""The sequence family's known-answer tasks on every backend, side by side.

    python benchmarks/sequence_tasks.py [--tasks adding reverse word2vec]
        [--backends tensorflow jax torch] [--budget 600]

- adding: the adding problem, T = 100 (10,000 train / 1,000 test); `lstm`, `gru` and
  `simple_rnn` (one layer of 128 units, Adam 1e-3, gradients clipped to norm 1). Target:
  test MSE < 0.01; always answering 1.0 scores about 0.167.
- reverse: reverse 10 tokens over a 20-token vocabulary; `transformer_seq2seq` and
  `seq2seq_attention` (GRU, Bahdanau), scored by whole-sequence accuracy of greedy
  decoding on the 1,000 test sequences. Targets: >= 99% and >= 95%.
- word2vec: skip-gram and CBOW on the topics corpus; the share of each word's 5 nearest
  neighbours in its own topic. Target: >= 90%.

Each backend runs in its own process. A run stops at its target or after `--budget`
seconds of training (Keras's LSTM/GRU on the PyTorch backend loop over time in Python
on CPU, keras issue 20902). Times are per training step (mean over the run, first epoch
with its compilation included).
"""

import argparse
import json
import sys
import time

from common import print_table, run_per_backend

RUNS = {
    "adding": [("lstm", {}), ("gru", {}), ("simple_rnn", {})],
    "reverse": [("transformer_seq2seq", dict(d_model=64, num_heads=4, ff_dim=128, dropout=0.0)),
                ("seq2seq_attention", dict(cell="gru", attention="bahdanau", units=128))],
    "word2vec": [("word2vec_skipgram", dict(embed_dim=16)), ("word2vec_cbow", dict(embed_dim=16))],
}
SETTINGS = {"adding": dict(epochs=60, batch_size=64, lr=1e-3),
            "reverse": dict(epochs=40, batch_size=64, lr=1e-3),
            "word2vec": dict(epochs=3, batch_size=256, lr=1e-2)}


TARGETS = {"adding": lambda logs: logs["val_loss"] < 0.01,
           "reverse": lambda logs: logs["val_accuracy"] > 0.999,
           "word2vec": lambda logs: False}


def run(task, budget):
    import keras
    import numpy as np

    from kerasdl import build, datasets, sequences
    from kerasdl.models.word2vec import most_similar
    from kerasdl.registry import get_spec
    from kerasdl.training import compile_model

    class Budget(keras.callbacks.Callback):
        """Stop at the task's target or after `budget` seconds; count steps and time."""

        def on_train_begin(self, logs=None):
            self.start, self.steps = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1

        def on_epoch_end(self, epoch, logs=None):
            self.elapsed = time.perf_counter() - self.start
            if TARGETS[task](logs) or self.elapsed > budget:
                self.model.stop_training = True

    results = []
    for name, kwargs in RUNS[task]:
        keras.utils.set_random_seed(0)
        dataset = datasets.info(get_spec(name).train.dataset)
        train, test, data_kwargs = datasets.load_for_model(name)
        model = build(name, **{**data_kwargs, **kwargs})
        settings = SETTINGS[task]
        compile_model(model, task=dataset.task, lr=settings["lr"], clipnorm=1.0)
        stop = Budget()
        history = model.fit(*train, validation_data=test if task != "word2vec" else None,
                            epochs=settings["epochs"], batch_size=settings["batch_size"],
                            callbacks=[stop], verbose=0)
        row = dict(model=name, epochs=len(history.history["loss"]),
                   seconds=round(stop.elapsed, 1),
                   ms_per_step=round(1000 * stop.elapsed / stop.steps, 1))
        if task == "adding":
            predictions = model.predict(test[0], verbose=0)[:, 0]
            row["test_mse"] = float(np.mean((predictions - test[1]) ** 2))
        elif task == "reverse":
            decoded = sequences.greedy_decode(model, test[0][0], length=10)
            row["sequence_accuracy"] = float(np.mean(np.all(decoded == test[1], axis=1)))
        else:
            same = [(o - 1) // 10 == (w - 1) // 10 for w in range(1, 41)
                    for o, _ in most_similar(model, w, k=5)]
            row["neighbours_in_topic"] = float(np.mean(same))
        results.append(row)
        print(json.dumps({**row, "backend": keras.backend.backend()}), file=sys.stderr, flush=True)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--budget", type=float, default=600.0,
                        help="seconds of training per model at most")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run(args.worker, args.budget)))
        return
    for task in args.tasks:
        rows = run_per_backend(__file__, task, args.backends, "--budget", args.budget)
        score = next(k for k in rows[args.backends[0]][0]
                     if k not in ("model", "epochs", "seconds", "ms_per_step"))
        print_table(f"{task}: {score}, epochs run, training seconds, ms per step", rows,
                    [score, "epochs", "seconds", "ms_per_step"])


if __name__ == "__main__":
    main()
