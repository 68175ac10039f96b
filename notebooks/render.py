"""Refresh the committed notebooks: pair each jupytext source with its .ipynb, run it in
full (not quick) mode on one backend (in a scratch directory, where its figure files go),
and keep its outputs minus the backends' start-up log noise; figures at 72 dpi as
256-colour PNGs, small enough for a repository.

    python notebooks/render.py [--backend jax] [NN_name.py ...]   (default: every notebook)
"""

import argparse
import base64
import glob
import io
import os
import re
import tempfile
import time

import jupytext
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))
NOISE = re.compile(r"^(WARNING: All log messages|[IWE]\d{4} |.*oneDNN custom operations|"
                   r".*cuda|.*rebuild TensorFlow|.*This TensorFlow binary|To enable the)")


def small_png(png):
    """A base64 PNG quantized to 256 colours."""
    from PIL import Image

    out = io.BytesIO()
    image = Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB")
    image.quantize(256, dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


def render(source, backend):
    notebook = jupytext.read(source)
    profile = os.path.join(tempfile.mkdtemp(), "profile_default")
    os.makedirs(profile)
    with open(os.path.join(profile, "ipython_kernel_config.py"), "w") as f:
        f.write('c.InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 72}\n')
    os.environ.update(KERAS_BACKEND=backend, KERASDL_QUICK="0", TF_CPP_MIN_LOG_LEVEL="2",
                      IPYTHONDIR=os.path.dirname(profile))
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
            if "image/png" in output.get("data", {}):
                output["data"]["image/png"] = small_png(output["data"]["image/png"])
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
