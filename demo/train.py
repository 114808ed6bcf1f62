"""A small real training script for the xt demo: an MLP on scikit-learn's
bundled digits data set. It logs its hparams and, per epoch, its accuracy
and loss through $XT_LOG (one JSON line per write; no package needed)."""
import argparse
import json
import os
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

log_path = os.environ.get("XT_LOG")


def log(event, data, step=None):
    line = {"event": event, "data": data}
    if step is not None:
        line["step"] = step
    if log_path:
        with open(log_path, "a") as f:
            f.write(json.dumps(line) + "\n")
    else:
        print(json.dumps(line))


p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.001)
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--epochs", type=int, default=15)
args = p.parse_args()
log("hparams", vars(args))

X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
model = MLPClassifier(hidden_layer_sizes=(args.hidden,), learning_rate_init=args.lr,
                      random_state=0)
warnings.simplefilter("ignore", ConvergenceWarning)
for epoch in range(1, args.epochs + 1):
    model.partial_fit(Xtr, ytr, classes=list(range(10)))
    acc = model.score(Xte, yte)
    log("metrics", {"acc": round(acc, 4), "loss": round(model.loss_, 4)}, step=epoch)
    print(f"epoch {epoch}: acc {acc:.4f} loss {model.loss_:.4f}", flush=True)

out = os.environ.get("XT_OUTPUT_DIR", ".")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"acc": acc, "epochs": args.epochs}, f)
