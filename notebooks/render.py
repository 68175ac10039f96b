"""Refresh the committed notebooks: pair each jupytext source with its .ipynb, run it in
full (not quick) mode on one backend (in a scratch directory, where its figure files go),
and keep its outputs minus the backends' start-up log noise.

    python notebooks/render.py [--backend jax] [NN_name.py ...]   (default: every notebook)
"""

import argparse
import glob
import os
import re
import tempfile
import time

import jupytext
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))
NOISE = re.compile(r"^(WARNING: All log messages|[IWE]\d{4} |.*oneDNN custom operations|"
                   r".*cuda|.*rebuild TensorFlow|.*This TensorFlow binary|To enable the)")


def render(source, backend):
    notebook = jupytext.read(source)
    os.environ.update(KERAS_BACKEND=backend, KERASDL_QUICK="0", TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    NotebookClient(notebook, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": tempfile.mkdtemp()}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = "".join(line for line in output["text"].splitlines(True)
                                         if not NOISE.match(line))
                if not output["text"]:
                    continue
            outputs.append(output)
        cell.outputs = outputs
    jupytext.write(notebook, source[: -len(".py")] + ".ipynb")
    print(f"{os.path.basename(source)}: {time.perf_counter() - start:.0f} s on {backend}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*")
    parser.add_argument("--backend", default="jax")
    args = parser.parse_args()
    sources = [os.path.join(HERE, os.path.basename(s)) for s in args.sources] or sorted(
        p for p in glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))
    for source in sources:
        render(source, args.backend)


if __name__ == "__main__":
    main()
